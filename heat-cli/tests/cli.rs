//! End-to-end tests of the `heat` binary: exit statuses, output formats, errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin_cmd;

/// The workspace root (examples are given relative to it, as a user would).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn heat() -> Command {
    let mut cmd = cargo_bin_cmd!("heat");
    cmd.current_dir(root());
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let output = cmd.output().expect("run heat");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}

fn heat_run(args: &[&str]) -> Run {
    run(heat().args(args))
}

/// A temporary file with the given name and text.
fn temp_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write temp file");
    path.to_string_lossy().into_owned()
}

const HELLO: &str = "examples/templates/hello_world.yaml";
const WEB: &str = "examples/templates/web_server.yaml";
const S3: &str = "examples/templates/s3_bucket.yaml";
const CIRCULAR: &str = "examples/templates/invalid/circular.yaml";

#[test]
fn example_templates_are_valid() {
    for file in [HELLO, WEB, S3] {
        let r = heat_run(&["template", "validate", file]);
        assert_eq!(r.code, 0, "{file}:\n{}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.lines().any(
                |l| l == format!("{file}: valid") || l.starts_with(&format!("{file}: valid ("))
            ),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("  description: "), "{}", r.stdout);
        assert!(r.stdout.contains("  parameters:\n"), "{}", r.stdout);
        assert!(!r.stdout.contains("error["), "{}", r.stdout);
    }
}

#[test]
fn valid_output_lists_parameters_and_masks_hidden_defaults() {
    let r = heat_run(&["template", "validate", HELLO]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("    name_length: number, default 8\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("    greeting: string, default \"Hello\"\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("    admin_password: string, default ****** (hidden)\n"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("correct-horse"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("  description: Hello world: a random name")
    );

    let r = heat_run(&["template", "validate", S3]);
    assert!(
        r.stdout.contains("    EnvName: String, default \"dev\"\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn several_files_are_judged_each_on_its_own() {
    let r = heat_run(&["template", "validate", HELLO, CIRCULAR, S3]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(&format!("{HELLO}: valid")));
    assert!(r.stdout.contains(&format!("{S3}: valid")));
    let summary = r
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{CIRCULAR}: ")) && l.contains(" error"))
        .expect("summary line of the invalid file");
    assert!(summary.contains("errors, "), "{summary}");
}

#[test]
fn invalid_example_reports_cycle_and_unknown_parameter_with_positions() {
    let r = heat_run(&["template", "validate", CIRCULAR]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!(
            "{CIRCULAR}:8:3: error[E4001]: circular dependency: first -> third -> second -> first\n"
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("  hint: first depends on third (depends_on at 10:17)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with(&format!("{CIRCULAR}:15:")) && l.contains("error[E3006]")),
        "{}",
        r.stdout
    );
    // No description or parameter listing for an invalid file.
    assert!(!r.stdout.contains("  parameters:"), "{}", r.stdout);
}

#[test]
fn unresolved_ref_in_a_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = temp_file(
        &dir,
        "bad.yaml",
        "AWSTemplateFormatVersion: '2010-09-09'\n\
         Resources:\n\
         \x20 Topic:\n\
         \x20   Type: AWS::S3::Bucket\n\
         \x20   Properties: {BucketName: !Ref Nope}\n",
    );
    let r = heat_run(&["template", "validate", &file]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("error[E3001]"))
        .expect("an E3001 line");
    assert!(line.starts_with(&format!("{file}:5:")), "{line}");
    assert!(line.contains("Nope"), "{line}");
    assert!(
        r.stdout.contains(&format!("{file}: 1 error, 0 warnings\n")),
        "{}",
        r.stdout
    );
}

#[test]
fn syntax_error_in_a_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = temp_file(&dir, "broken.json", "{\"Resources\": {\"a\": [}\n");
    let r = heat_run(&["template", "validate", &file]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with(&format!("{file}:1:")) && l.contains(": error[E0")),
        "{}",
        r.stdout
    );
}

#[test]
fn unreadable_file_is_exit_2_and_other_files_are_still_checked() {
    let r = heat_run(&["template", "validate", "no/such/file.yaml", HELLO]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .starts_with("heat: cannot read no/such/file.yaml: "),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains(&format!("{HELLO}: valid")),
        "{}",
        r.stdout
    );
}

#[test]
fn io_error_wins_over_invalid_template() {
    let r = heat_run(&["template", "validate", CIRCULAR, "missing.yaml"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("error[E4001]"));
}

#[test]
fn not_utf8_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.yaml");
    std::fs::write(&path, b"description: caf\xe9\n").unwrap();
    let path = path.to_string_lossy().into_owned();
    let r = heat_run(&["template", "validate", &path]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not valid UTF-8"), "{}", r.stderr);
}

#[test]
fn usage_errors_are_exit_2() {
    let cases: &[&[&str]] = &[
        &["template", "validate", "-P", "novalue", HELLO],
        &["template", "validate", "-P", "=x", HELLO],
        &["template", "validate"],
        &["template", "validate", "--format", "xml", HELLO],
        &["template", "graph", HELLO, "--format", "png"],
        &["template", "frobnicate"],
        &[],
    ];
    for args in cases {
        let r = heat_run(args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(!r.stderr.is_empty(), "{args:?}");
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    let r = heat_run(&["template", "validate", "-P", "novalue", HELLO]);
    assert!(r.stderr.contains("KEY=VALUE"), "{}", r.stderr);
}

#[test]
fn help_and_version_are_exit_0() {
    let r = heat_run(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("template"));
    let r = heat_run(&["template", "validate", "--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("--environment"));
    assert!(r.stdout.contains("--parameter"));
    let r = heat_run(&["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("heat "));
}

#[test]
fn parameters_and_environments_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let good_env = temp_file(&dir, "good.yaml", "parameters:\n  name_length: 12\n");
    let r = heat_run(&[
        "template",
        "validate",
        HELLO,
        "-e",
        &good_env,
        "-P",
        "greeting=Hi",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    let r = heat_run(&["template", "validate", HELLO, "-P", "name_length=2"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("name_length"), "{}", r.stdout);

    let bad_env = temp_file(&dir, "bad.yaml", "parameters:\n  greeting: Bonjour\n");
    let r = heat_run(&["template", "validate", HELLO, "--environment", &bad_env]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("greeting"), "{}", r.stdout);

    // A hidden parameter's value never appears, even when it is wrong.
    let dir2 = tempfile::tempdir().unwrap();
    let secret = temp_file(
        &dir2,
        "secret.yaml",
        "heat_template_version: 2018-08-31\n\
         parameters:\n\
         \x20 pw:\n\
         \x20   type: string\n\
         \x20   hidden: true\n\
         \x20   constraints:\n\
         \x20     - length: {min: 8}\n\
         resources:\n\
         \x20 r:\n\
         \x20   type: OS::Heat::None\n\
         \x20   properties: {p: {get_param: pw}}\n",
    );
    let r = heat_run(&["template", "validate", &secret, "-P", "pw=s3cr3"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("s3cr3"), "{}", r.stdout);
    assert!(!r.stderr.contains("s3cr3"), "{}", r.stderr);
}

#[test]
fn unreadable_environment_is_exit_2() {
    let r = heat_run(&["template", "validate", HELLO, "-e", "no/such/env.yaml"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("heat: cannot read no/such/env.yaml: "),
        "{}",
        r.stderr
    );
}

#[test]
fn json_output_has_the_documented_shape() {
    let r = heat_run(&[
        "template",
        "validate",
        "--format",
        "json",
        HELLO,
        CIRCULAR,
        "missing.yaml",
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let files = doc["files"].as_array().expect("files list");
    assert_eq!(files.len(), 3);
    let keys = [
        "file",
        "valid",
        "read_error",
        "errors",
        "warnings",
        "diagnostics",
        "description",
        "parameters",
    ];
    for file in files {
        let object = file.as_object().expect("object");
        let names: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(names, keys);
    }

    let hello = &files[0];
    assert_eq!(hello["file"], HELLO);
    assert_eq!(hello["valid"], true);
    assert_eq!(hello["errors"], 0);
    assert!(hello["read_error"].is_null());
    assert!(
        hello["description"]
            .as_str()
            .unwrap()
            .starts_with("Hello world")
    );
    let params = hello["parameters"].as_array().unwrap();
    let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["name_length", "greeting", "admin_password"]);
    assert_eq!(params[0]["type"], "number");
    assert_eq!(params[0]["default"], 8);
    assert_eq!(params[2]["default"], "******");
    assert_eq!(params[2]["hidden"], true);
    assert!(!r.stdout.contains("correct-horse"));

    let circular = &files[1];
    assert_eq!(circular["valid"], false);
    let diagnostics = circular["diagnostics"].as_array().unwrap();
    let cycle = diagnostics
        .iter()
        .find(|d| d["code"] == "E4001")
        .expect("E4001");
    assert_eq!(cycle["severity"], "error");
    assert_eq!(cycle["file"], CIRCULAR);
    assert_eq!(cycle["line"], 8);
    assert_eq!(cycle["column"], 3);
    assert!(cycle["end_line"].is_u64());
    assert!(cycle["end_column"].is_u64());
    assert_eq!(
        cycle["message"],
        "circular dependency: first -> third -> second -> first"
    );
    assert!(cycle["hint"].as_str().unwrap().contains("depends on"));
    let fields: Vec<&str> = cycle
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "code",
            "severity",
            "message",
            "hint",
            "file",
            "line",
            "column",
            "end_line",
            "end_column"
        ]
    );
    assert_eq!(
        circular["errors"].as_u64().unwrap(),
        diagnostics
            .iter()
            .filter(|d| d["severity"] == "error")
            .count() as u64
    );

    let missing = &files[2];
    assert_eq!(missing["valid"], false);
    assert!(missing["read_error"].is_string());
    assert!(r.stderr.contains("heat: cannot read missing.yaml: "));
}

#[test]
fn graph_as_dot_and_mermaid() {
    let r = heat_run(&["template", "graph", HELLO]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.starts_with("digraph dependencies {\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("  \"random_name\" [label=\"random_name\\nOS::Heat::RandomString\"];\n")
    );
    assert!(
        r.stdout
            .contains("  \"message\" -> \"random_name\" [label=\"get_attr\"];\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("  \"placeholder\" -> \"message\" [label=\"depends_on\"];\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.ends_with("}\n"));

    let r = heat_run(&["template", "graph", "--format", "mermaid", HELLO]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("flowchart TD\n"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("  r0[\"random_name<br/>OS::Heat::RandomString\"]\n")
    );
    assert!(
        r.stdout.contains("  r1 -->|\"get_attr\"| r0\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("  r2 -->|\"depends_on\"| r1\n"),
        "{}",
        r.stdout
    );

    // The output is stable.
    let again = heat_run(&["template", "graph", "--format", "mermaid", HELLO]);
    assert_eq!(again.stdout, r.stdout);
}

#[test]
fn graph_of_cfn_template_and_of_a_cycle() {
    let r = heat_run(&["template", "graph", S3]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("  \"Ready\" -> \"WebSecurityGroup\" [label=\"DependsOn\"];\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("  \"Ready\" -> \"ReadyHandle\" [label=\"Ref\"];\n")
    );

    let r = heat_run(&["template", "graph", CIRCULAR]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("\"third\" -> \"second\""), "{}", r.stdout);
    assert!(r.stderr.contains("error[E4001]"), "{}", r.stderr);

    let r = heat_run(&["template", "graph", "missing.yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("heat: cannot read missing.yaml: "));
}

#[test]
fn versions_list() {
    let r = heat_run(&["template", "versions"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let rows: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["VERSION", "TYPE", "ALIASES"]);
    assert_eq!(rows.len(), 14);
    assert_eq!(rows[1], ["AWSTemplateFormatVersion.2010-09-09", "cfn"]);
    assert_eq!(rows[2], ["HeatTemplateFormatVersion.2012-12-12", "cfn"]);
    assert_eq!(rows[3], ["heat_template_version.2013-05-23", "hot"]);
    assert!(rows.contains(&vec![
        "heat_template_version.2021-04-16",
        "hot",
        "heat_template_version.wallaby"
    ]));

    let r = heat_run(&["template", "versions", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let list = doc["template_versions"].as_array().unwrap();
    assert_eq!(list.len(), 13);
    assert_eq!(
        list[7],
        serde_json::json!({
            "version": "heat_template_version.2016-10-14",
            "type": "hot",
            "aliases": ["heat_template_version.newton"]
        })
    );
}

#[test]
fn functions_list() {
    let names = |r: &Run| -> Vec<String> {
        r.stdout
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    };
    for version in ["heat_template_version.2016-10-14", "2016-10-14", "newton"] {
        let r = heat_run(&["template", "functions", version]);
        assert_eq!(r.code, 0, "{version}: {}", r.stderr);
        let list = names(&r);
        assert!(list.contains(&"get_attr".to_string()), "{list:?}");
        assert!(list.contains(&"if".to_string()), "{list:?}");
        assert!(!list.contains(&"equals".to_string()), "{list:?}");
        assert!(r.stdout.starts_with("FUNCTION"), "{}", r.stdout);
    }
    let r = heat_run(&[
        "template",
        "functions",
        "newton",
        "--with-condition-functions",
    ]);
    assert!(names(&r).contains(&"equals".to_string()), "{}", r.stdout);

    let r = heat_run(&["template", "functions", "2013-05-23"]);
    assert!(names(&r).contains(&"Fn::Join".to_string()), "{}", r.stdout);

    let r = heat_run(&[
        "template",
        "functions",
        "AWSTemplateFormatVersion.2010-09-09",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let list = doc["template_functions"].as_array().unwrap();
    assert!(list.iter().any(|f| f["functions"] == "Fn::GetAtt"));
    assert!(list.iter().all(|f| f["description"].is_string()));

    let r = heat_run(&["template", "functions", "2099-01-01"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown template version '2099-01-01'"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("heat_template_version.wallaby"));
}

#[test]
fn closed_stdout_is_not_a_panic() {
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin!("heat"))
        .args(["template", "versions"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before heat writes anything.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[test]
fn graph_of_a_non_template_prints_diagnostics_only() {
    let dir = tempfile::tempdir().unwrap();
    let file = temp_file(&dir, "list.yaml", "- a\n- b\n");
    let r = heat_run(&["template", "graph", &file]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.starts_with(&format!("{file}:1:1: error[E0008]")),
        "{}",
        r.stderr
    );
}

#[test]
fn get_file_paths_are_read_relative_to_the_template() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("scripts")).expect("mkdir");
    std::fs::write(dir.path().join("scripts/setup.sh"), "#!/bin/sh\necho hi\n").expect("write");
    let template = temp_file(
        &dir,
        "config.yaml",
        "heat_template_version: 2018-08-31\n\
         resources:\n  \
           present:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      \
             config: {get_file: scripts/setup.sh}\n  \
           missing:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      \
             config: {get_file: scripts/absent.sh}\n  \
           remote:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      \
             config: {get_file: 'https://example.com/remote.sh'}\n",
    );
    let r = heat_run(&["template", "validate", &template]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains(":10:26: error[E5003]: get_file cannot read 'scripts/absent.sh'"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("setup.sh"), "{}", r.stdout);
    assert!(!r.stdout.contains("remote.sh"), "{}", r.stdout);
    assert!(r.stdout.contains("1 error"), "{}", r.stdout);

    std::fs::write(dir.path().join("scripts/absent.sh"), "echo now\n").expect("write");
    let r = heat_run(&["template", "validate", &template]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
