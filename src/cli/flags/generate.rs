//! `--generate`: the flag that prints the man page or a shell completion script.

use super::Flag;

/// `--generate KIND`.
pub const GENERATE: Flag = Flag {
    long: "--generate",
    value: Some("KIND"),
    help: "print the man page or a completion script, then exit:\nman, complete-bash, complete-zsh or complete-fish",
    choices: &["man", "complete-bash", "complete-zsh", "complete-fish"],
    ..Flag::VALUE
};
