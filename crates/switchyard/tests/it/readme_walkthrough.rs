//! The README's "First steps", run as written: every `sh` block of that section, in order, in
//! one bash script against a real server (so the README and the API cannot drift apart). The only
//! stand-ins: `cargo run -- ARGS` runs the built binary with ARGS, and `SY` is the test server's
//! URL; the database is the server's.
use crate::common::*;
use serde_json::Value;
use std::process::Command;

/// The `sh` blocks of the README section `## First steps`.
fn walkthrough() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let start = readme
        .find("\n## First steps\n")
        .expect("README has a First steps section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut blocks = Vec::new();
    let mut rest = section;
    while let Some(i) = rest.find("```sh\n") {
        let body = &rest[i + 6..];
        let end = body.find("\n```").expect("a closed code block");
        blocks.push(body[..end].to_owned());
        rest = &body[end + 4..];
    }
    blocks
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_steps_work_as_written() {
    let blocks = walkthrough();
    assert!(
        blocks.len() >= 7,
        "First steps lost its walkthrough: {} sh blocks",
        blocks.len()
    );
    for tool in ["bash", "curl", "jq"] {
        if !have(tool) {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "the README walkthrough needs {tool} under CI=true"
            );
            notice(&format!(
                "README walkthrough not run, it passes without testing anything: {tool} is not installed"
            ));
            return;
        }
    }
    let db = Db::new(Backend::Sqlite).await.unwrap();
    let server = Server::start(&db);
    let work = db.dir.join("walkthrough");
    std::fs::create_dir_all(&work).unwrap();
    let preamble = "set -euo pipefail\n\
         cargo() { [ \"$1\" = run ] || return 1; shift; while [ $# -gt 0 ] && [ \"$1\" != -- ]; do shift; done; [ $# -gt 0 ] && shift; \"$SWITCHYARD_BIN\" \"$@\"; }\n";
    let script = format!("{preamble}{}\n", blocks.join("\n"));
    let run = |script: &str| {
        bin_env(Command::new("bash"))
            .arg("-c")
            .arg(script)
            .current_dir(&work)
            .env("SY", &server.url)
            .env("SWITCHYARD_BIN", env!("CARGO_BIN_EXE_switchyard"))
            .env("SWITCHYARD_DATABASE_URL", &db.url)
            .output()
            .unwrap()
    };
    // The README's helper fails on an error answer, so a call that broke would stop the script.
    let broken = run(&format!(
        "{preamble}{}\nsy $SY/api/embedded/v1/hubs -d '{{}}'\necho not reached\n",
        blocks[0]
    ));
    assert!(
        !broken.status.success()
            && String::from_utf8_lossy(&broken.stdout).contains("400000")
            && !String::from_utf8_lossy(&broken.stdout).contains("not reached"),
        "a 400 did not stop the walkthrough: {broken:?}"
    );
    let out = run(&script);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README walkthrough failed ({}):\n--- output\n{stdout}\n--- errors\n{}\n--- server\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        server.logs()
    );

    // What it made is what the README says it makes.
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(work.join(f)).unwrap()).unwrap()
    };
    let org = read("org.json");
    let activation = read("activation.json");
    assert_eq!(activation["user"]["externalId"], "customer-42");
    assert_eq!(activation["integration"]["isActivated"], true);
    assert_eq!(activation["dynamicVariables"]["region"], "eu");
    let hub = read("hub.json")["id"].as_str().unwrap().to_owned();
    let api = Api::new(&server, org["apiKey"].as_str().unwrap());
    let page = api
        .get(&format!(
            "/api/embedded/v1/embed/{hub}/users/customer-42/integrations"
        ))
        .await
        .expect(200);
    assert_eq!(page["totalConnected"], 1);
    assert!(
        stdout.lines().any(|l| l == "1"),
        "the walkthrough's last check printed no 1: {stdout}"
    );
    let url = read("session.json")["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/hub/", server.url)), "{url}");
    let page = reqwest::get(&url).await.unwrap();
    assert_eq!(page.status(), 200);
}
