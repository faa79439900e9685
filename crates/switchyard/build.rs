//! Marks the PostgreSQL half of the integration tests `#[ignore]`d, with the reason, when
//! `SWITCHYARD_TEST_POSTGRES_URL` is not set, so that a plain `cargo test` says
//! `... ignored, PostgreSQL suite not run: ...` instead of `... ok` for tests that tested nothing.
//! Under `CI=true` they stay on (and fail without the variable). The variables are watched:
//! setting or clearing one rebuilds the tests.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(switchyard_no_test_postgres)");
    println!("cargo::rerun-if-env-changed=SWITCHYARD_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-changed=build.rs");
    let configured = std::env::var("SWITCHYARD_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty());
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !configured && !ci {
        println!("cargo::rustc-cfg=switchyard_no_test_postgres");
    }
}
