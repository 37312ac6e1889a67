//! `contrail init`: a blank workspace runs green against contrail's own mock (and fails when
//! its expectation is broken); `--from-openapi` makes workspaces `lint` accepts from real
//! public documents of different styles (GitHub's REST description from npm
//! `@octokit/openapi`, OAS 3.0 and 3.1 examples from npm `@readme/oas-examples`), whose smoke
//! scenario runs green against the demo partner and fails against it drifted.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{contrail, contrail_env, repo, start_partner};

fn lint_ok(dir: &Path) -> String {
    let out = contrail(dir, &["lint"]);
    assert_eq!(out.code, 0, "{}", out.all());
    out.stdout
}

#[test]
fn a_blank_workspace_runs_green_against_the_mock_and_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = contrail(dir.path(), &["init"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(lint_ok(dir.path()).contains("2 scenario(s)"));
    let run = contrail(dir.path(), &["run", "--color", "never"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("2 scenarios (2 passed)"), "{}", run.stdout);

    // Nothing that exists is overwritten, and nothing is half-written.
    let feature = dir.path().join("features/example.feature");
    let before = std::fs::read_to_string(&feature).unwrap();
    std::fs::write(
        &feature,
        before.replace("\"name\" is \"Sprocket\"", "\"name\" is \"Gear\""),
    )
    .unwrap();
    let again = contrail(dir.path(), &["init"]);
    assert_eq!(again.code, 2, "{}", again.all());
    assert!(
        again.stderr.contains("exists already; nothing was written"),
        "{}",
        again.stderr
    );
    // The same scenario fails once its expectation is wrong.
    let run = contrail(dir.path(), &["run", "--color", "never"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("\"Gear\""), "{}", run.stdout);

    // [run] target is checked.
    let toml = dir.path().join("contrail.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replace("target = \"replay\"", "target = \"mock\"")).unwrap();
    let lint = contrail(dir.path(), &["lint"]);
    assert_eq!(lint.code, 2, "{}", lint.all());
    assert!(
        lint.all().contains("contrail.toml") && lint.all().contains("[run] target = \"mock\""),
        "{}",
        lint.all()
    );
}

#[test]
fn a_workspace_from_the_demo_partners_document_runs_its_smoke_check_live() {
    let dir = tempfile::tempdir().unwrap();
    let spec = repo().join("contracts/openapi/ticketing.yaml");
    let partner = start_partner(&[]);
    let out = contrail(
        dir.path(),
        &[
            "init",
            "--from-openapi",
            spec.to_str().unwrap(),
            "--partner",
            "ticketing",
            "--base-url",
            &partner.url,
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(out.stdout.contains("1 smoke scenario(s)"), "{}", out.stdout);
    let contract = std::fs::read_to_string(dir.path().join("contracts/ticketing.yaml")).unwrap();
    assert!(contract.contains("type: oauth2-client-credentials"), "{contract}");
    assert!(
        contract.contains("client_secret: \"${env:TICKETING_CLIENT_SECRET}\""),
        "{contract}"
    );
    lint_ok(dir.path());
    // A template filled in as a user would: uncommented, with a body.
    let feature = dir.path().join("features/ticketing.feature");
    let text = std::fs::read_to_string(&feature).unwrap();
    let template = "  # Scenario: createTicket\n  #   When I call \"createTicket\" with the body:\n  #     \"\"\"json\n  #     { }\n  #     \"\"\"\n  #   Then the response status is 201\n  #   And the response matches the contract\n";
    assert!(text.contains(template), "{text}");
    let filled = template.replace("  # ", "  ").replace("  #", "  ").replace(
        "{ }",
        r#"{ "title": "Printer on fire", "priority": "high", "customer_id": "C-1" }"#,
    );
    std::fs::write(&feature, text.replace(template, &filled)).unwrap();
    lint_ok(dir.path());
    let env = [
        ("TICKETING_CLIENT_ID", "contrail-qa"),
        ("TICKETING_CLIENT_SECRET", "qa-secret"),
    ];
    let run = contrail_env(dir.path(), &["run", "--target", "live", "--color", "never"], &env);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("listTickets answers as the contract says"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("2 scenarios (2 passed)"), "{}", run.stdout);

    // The same smoke check against the drifted partner fails, naming the field.
    let drifted = start_partner(&["--drift"]);
    let url = format!("ticketing={}", drifted.url);
    let run = contrail_env(
        dir.path(),
        &["run", "--target", "live", "--color", "never", "--base-url", &url],
        &env,
    );
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("customer_id"), "{}", run.stdout);
}

/// An npm package's tarball, fetched once into target/ and checked against its SHA-256;
/// None (the test says it skipped) where the registry cannot be reached.
fn npm_package(name: &str, version: &str, sha256: &str) -> Option<PathBuf> {
    let dir = repo().join("target/real-specs");
    std::fs::create_dir_all(&dir).ok()?;
    let file = dir.join(format!("{}-{version}.tgz", name.replace(['@', '/'], "_")));
    let digest = |p: &Path| {
        use sha2::Digest;
        std::fs::read(p).ok().map(|b| {
            sha2::Sha256::digest(&b)
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<String>()
        })
    };
    if digest(&file).as_deref() != Some(sha256) {
        let base = name.rsplit('/').next().unwrap_or(name);
        let url = format!("https://registry.npmjs.org/{name}/-/{base}-{version}.tgz");
        let part = file.with_extension("part");
        let ok = Command::new("curl")
            .args(["-sSfL", "--max-time", "120", "-o"])
            .arg(&part)
            .arg(&url)
            .status()
            .is_ok_and(|s| s.success());
        if !ok || digest(&part).as_deref() != Some(sha256) {
            let _ = std::fs::remove_file(&part);
            return None;
        }
        std::fs::rename(&part, &file).ok()?;
    }
    Some(file)
}

/// One file out of a package tarball.
fn extract(tgz: &Path, member: &str, into: &Path) -> PathBuf {
    let status = Command::new("tar")
        .arg("xzf")
        .arg(tgz)
        .arg(member)
        .current_dir(into)
        .status()
        .unwrap();
    assert!(status.success(), "tar {member}");
    into.join(member)
}

#[test]
fn real_public_documents_make_workspaces_lint_accepts() {
    let Some(examples) = npm_package(
        "@readme/oas-examples",
        "8.2.2",
        "df951ee87b5b069c86148bf5bbf3923d6cfd27fb95a45aacb95f06b31f604241",
    ) else {
        eprintln!("SKIPPED: npm's registry cannot be reached, so no real OpenAPI documents");
        return;
    };
    let github = npm_package(
        "@octokit/openapi",
        "23.0.2",
        "71a18407dd5e8464f4e0525daf03deabbe65abd9287d6adc7b5d98f516cd0d0c",
    );
    let unpacked = tempfile::tempdir().unwrap();
    let mut cases = vec![
        // OAS 3.0, YAML, an API key and OAuth implicit: the key is used.
        (
            extract(&examples, "package/3.0/yaml/petstore.yaml", unpacked.path()),
            "petstore",
            "type: api-key, header: \"api_key\", value: \"${env:PETSTORE_API_KEY}\"",
        ),
        // OAS 3.1, OAuth authorization code: a token from the environment.
        (
            extract(&examples, "package/3.1/yaml/train-travel.yaml", unpacked.path()),
            "train",
            "type: bearer, token: \"${env:TRAIN_TOKEN}\"",
        ),
    ];
    match &github {
        // OAS 3.0, 13 MB of JSON, 1,200 operations, no security scheme.
        Some(tgz) => cases.push((
            extract(tgz, "package/generated/api.github.com.json", unpacked.path()),
            "github",
            "declares no security scheme",
        )),
        None => eprintln!("SKIPPED (GitHub's document only): @octokit/openapi could not be fetched"),
    }
    for (spec, partner, auth) in cases {
        let dir = tempfile::tempdir().unwrap();
        let out = contrail(
            dir.path(),
            &["init", "--from-openapi", spec.to_str().unwrap(), "--partner", partner],
        );
        assert_eq!(out.code, 0, "{partner}: {}", out.all());
        let contract = std::fs::read_to_string(dir.path().join(format!("contracts/{partner}.yaml"))).unwrap();
        assert!(contract.contains(auth), "{partner}: {contract}");
        let listed = lint_ok(dir.path());
        let smoke: usize = out
            .stdout
            .split(" smoke scenario(s)")
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(smoke > 0, "{partner}: {}", out.stdout);
        assert!(listed.contains(&format!("{smoke} scenario(s)")), "{partner}: {listed}");
    }
}
