//! Where a run came from, for its report: the workspace's git commit. CI systems say it in a
//! variable (a shallow or detached checkout may have no branch); otherwise `.git` is read
//! directly (HEAD, the ref it names, packed refs), so no `git` binary is needed.

use std::path::Path;

/// CI variables that hold the commit being built.
const CI_VARIABLES: [&str; 4] = ["GITHUB_SHA", "CI_COMMIT_SHA", "BUILDKITE_COMMIT", "GIT_COMMIT"];

pub fn git_commit(root: &Path) -> Option<String> {
    git_commit_with(root, |name| std::env::var(name).ok())
}

/// `git_commit` with the environment passed in, so both ways of finding the commit are tested.
fn git_commit_with(root: &Path, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    for v in CI_VARIABLES {
        if let Some(sha) = env(v)
            && is_sha(sha.trim())
        {
            return Some(sha.trim().to_string());
        }
    }
    let git = root.ancestors().map(|d| d.join(".git")).find(|g| g.exists())?;
    // A worktree or submodule: `.git` is a file naming the real folder.
    let git = if git.is_file() {
        let text = std::fs::read_to_string(&git).ok()?;
        let dir = text.trim().strip_prefix("gitdir:")?.trim();
        git.parent()?.join(dir)
    } else {
        git
    };
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(name) = head.strip_prefix("ref:") else {
        return is_sha(head).then(|| head.to_string());
    };
    let name = name.trim();
    // Worktrees keep their refs in the common folder.
    let common = std::fs::read_to_string(git.join("commondir"))
        .ok()
        .map(|c| git.join(c.trim()))
        .unwrap_or_else(|| git.clone());
    for dir in [&git, &common] {
        if let Ok(sha) = std::fs::read_to_string(dir.join(name))
            && is_sha(sha.trim())
        {
            return Some(sha.trim().to_string());
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (sha, r) = l.split_once(' ')?;
        (r.trim() == name && is_sha(sha)).then(|| sha.to_string())
    })
}

fn is_sha(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_head_through_a_ref_and_through_packed_refs() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).unwrap();
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        let sha = "0123456789abcdef0123456789abcdef01234567";
        std::fs::write(git.join("refs/heads/main"), format!("{sha}\n")).unwrap();
        let ws = dir.path().join("sub");
        std::fs::create_dir_all(&ws).unwrap();
        let no_ci = |_: &str| None;
        assert_eq!(git_commit_with(&ws, no_ci).as_deref(), Some(sha));
        // A CI variable wins over the files; one that is not a commit is passed over.
        let other = "89abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(
            git_commit_with(&ws, |v| (v == "GITHUB_SHA").then(|| other.to_string())).as_deref(),
            Some(other)
        );
        assert_eq!(
            git_commit_with(&ws, |v| (v == "GITHUB_SHA").then(|| "main".to_string())).as_deref(),
            Some(sha)
        );
        std::fs::remove_file(git.join("refs/heads/main")).unwrap();
        assert_eq!(git_commit_with(&ws, no_ci), None);
        std::fs::write(git.join("packed-refs"), format!("# pack-refs\n{sha} refs/heads/main\n")).unwrap();
        assert_eq!(git_commit_with(&ws, no_ci).as_deref(), Some(sha));
    }
}
