//! JSON Pointer tokens (RFC 6901), escaped and unescaped in one place: `~` is `~0` and `/`
//! is `~1`, and the order matters (unescaping `~01` must give `~1`, not `/`).

/// A key as a pointer token.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A pointer token as the key it names.
pub fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_round_trips_and_keeps_the_order() {
        for key in ["a/b", "m~n", "~1", "/~0/", ""] {
            assert_eq!(super::unescape(&super::escape(key)), key);
        }
        assert_eq!(super::escape("a/b~c"), "a~1b~0c");
        assert_eq!(super::unescape("~01"), "~1");
    }
}
