//! The files in `deploy/` cannot drift from the settings `src/config.rs` reads.
use std::path::Path;

/// Every `env = "NAME"` in src/config.rs, plus RUST_LOG (read by the log filter).
fn settings() -> Vec<String> {
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config.rs"))
        .expect("src/config.rs is readable");
    let mut names: Vec<String> = source
        .split("env = \"")
        .skip(1)
        .map(|rest| rest.split('"').next().expect("a closing quote").to_string())
        .collect();
    names.push("RUST_LOG".into());
    names
}

fn deploy_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(name))
        .unwrap_or_else(|e| panic!("deploy/{name}: {e}"))
}

/// Whether `text` has `name` as a whole word (so `SMTP_URL` is not found in `XSMTP_URLS`).
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        !text[..at].chars().next_back().is_some_and(word) && !text[at + name.len()..].chars().next().is_some_and(word)
    })
}

#[test]
fn config_reads_the_settings_this_test_knows_how_to_find() {
    let names = settings();
    assert!(names.len() >= 19, "found only {names:?} in src/config.rs");
    for expected in ["DATABASE_URL", "SECRET_KEY", "TRUST_FORWARDED_FOR", "JOB_LEASE_SECONDS"] {
        assert!(names.iter().any(|n| n == expected), "{expected} not found among {names:?}");
    }
}

#[test]
fn the_env_examples_and_the_systemd_unit_mention_every_setting() {
    for file in [".env.example", "patronage.env.example", "patronage@.service"] {
        let text = deploy_file(file);
        let missing: Vec<String> = settings().into_iter().filter(|name| !mentions(&text, name)).collect();
        assert!(missing.is_empty(), "deploy/{file} does not mention {missing:?}");
    }
}

#[test]
fn the_env_examples_set_each_setting_on_a_line_of_its_own() {
    for file in [".env.example", "patronage.env.example"] {
        let text = deploy_file(file);
        for name in settings() {
            let set = text.lines().filter(|line| line.starts_with(&format!("{name}="))).count();
            assert_eq!(set, 1, "deploy/{file} sets {name} {set} times");
        }
    }
}

#[test]
fn the_image_checks_readiness_with_the_binary_itself_and_runs_unprivileged() {
    let dockerfile = deploy_file("Dockerfile");
    assert!(dockerfile.contains(r#"HEALTHCHECK"#) && dockerfile.contains(r#"CMD ["patronage", "healthcheck"]"#));
    assert!(dockerfile.lines().any(|l| l.starts_with("USER ") && !l.contains("root")), "a non-root USER");
    let compose = deploy_file("compose.yaml");
    for service in ["postgres:", "app1:", "app2:", "caddy:"] {
        assert!(compose.contains(service), "compose.yaml has {service}");
    }
}
