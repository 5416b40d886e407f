//! Every subcommand's help examples can be pasted: at 80 columns none of them is wrapped mid-command.

mod cli_support;

use cli_support::BIN;
use std::process::Command;

const COMMANDS: &[&[&str]] = &[
    &[],
    &["credentials"],
    &["explain"],
    &["config"],
    &["config", "encrypt"],
    &["config", "decrypt"],
    &["config", "new-local-key"],
    &["nacos"],
    &["nacos", "login"],
    &["nacos", "sign"],
    &["nacos", "config"],
    &["nacos", "config", "get"],
    &["nacos", "config", "publish"],
    &["nacos", "config", "list"],
    &["nacos", "config", "reencrypt"],
    &["serve"],
    &["emulator"],
    &["tour"],
];

/// The lines of the "Examples:" section of `mse-auth <command> --help` at `columns` columns.
fn examples(command: &[&str], columns: u16) -> Vec<String> {
    let out = Command::new(BIN)
        .args(command)
        .arg("--help")
        .env("COLUMNS", columns.to_string())
        .output()
        .expect("run mse-auth --help");
    assert!(out.status.success(), "{command:?}: {out:?}");
    let text = String::from_utf8(out.stdout).expect("UTF-8 help");
    let section = text
        .split_once("Examples:\n")
        .unwrap_or_else(|| panic!("{command:?} has no examples:\n{text}"))
        .1;
    section
        .lines()
        .take_while(|line| line.starts_with("  ") || line.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn help_examples_fit_80_columns_unwrapped() {
    for command in COMMANDS {
        let narrow = examples(command, 80);
        assert!(!narrow.is_empty(), "{command:?}");
        assert_eq!(
            narrow,
            examples(command, 400),
            "{command:?}: wrapped at 80 columns"
        );
        for line in &narrow {
            assert!(line.chars().count() <= 80, "{command:?}: too long: {line}");
        }
    }
}
