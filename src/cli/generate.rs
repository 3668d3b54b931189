//! `glacier --generate man|complete-bash|complete-zsh|complete-fish`: the man page and
//! shell completion scripts, made from the same tables as the parser and the help pages
//! ([`ACTIONS`], the groups and the flag lists), so a flag added to a command's list
//! appears in all of them without an edit here.

use super::flags::{self, Flag};
use super::help::{ACTIONS, Action, GROUPS};

/// The text for `kind` (one of `--generate`'s choices, checked by the parser).
pub fn generate(kind: &str) -> String {
    match kind {
        "man" => man(),
        "complete-bash" => bash(),
        "complete-zsh" => zsh(),
        _ => fish(),
    }
}

/// The commands at the top level: groups and one-word actions, in overview order.
fn top_level() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for a in ACTIONS {
        let (g, action) = a.group();
        if action.is_none() {
            out.push((g, a.summary));
        } else if !out.iter().any(|(w, _)| *w == g) {
            let group = GROUPS.iter().find(|x| x.name == g).map(|x| x.title);
            out.push((g, group.unwrap_or(a.summary)));
        }
    }
    out.push(("help", "show help for a command or one action"));
    out
}

fn actions_of(group: &str) -> impl Iterator<Item = &'static Action> + '_ {
    ACTIONS
        .iter()
        .filter(move |a| a.group().0 == group && a.group().1.is_some())
}

/// A flag's help on one line.
fn one_line(f: &Flag) -> String {
    f.help.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---- man page -------------------------------------------------------------------

/// Escapes text for roff: backslashes, and a `.` or `'` that would start a request.
fn roff(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e").replace('-', "\\-");
            if l.starts_with(['.', '\'']) {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn man_flag(f: &Flag) -> String {
    let mut names: Vec<String> = f.short.iter().map(|s| s.to_string()).collect();
    names.push(f.long.to_string());
    names.extend(f.aliases.iter().map(|a| a.to_string()));
    let mut head = names
        .iter()
        .map(|n| format!("\\fB{}\\fR", roff(n)))
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(v) = f.value {
        head.push_str(&format!(" \\fI{}\\fR", roff(v)));
    }
    let mut body = roff(&one_line(f));
    if let Some(d) = f.default {
        body.push_str(&format!(
            " (default: {})",
            roff(&d.split_whitespace().collect::<Vec<_>>().join(" "))
        ));
    }
    format!(".TP\n{head}\n{body}\n")
}

fn man_paragraphs(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!(".PP\n{}\n", roff(p.trim_end())))
        .collect()
}

fn man() -> String {
    let mut out = format!(
        ".TH GLACIER 1 \"\" \"glacier {}\" \"User Commands\"\n\
         .SH NAME\nglacier \\- upload, resume, retrieve, export and verify Amazon S3 Glacier vault archives\n\
         .SH SYNOPSIS\n\\fBglacier\\fR [\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR...]\n\
         .SH DESCRIPTION\n\
         One binary for Amazon S3 Glacier vaults (the vault/archive API). Every byte up and\n\
         down is checked with Glacier's SHA\\-256 tree hash; interrupted uploads, downloads,\n\
         exports and purges continue when the same command is run again.\n\
         .SH GLOBAL OPTIONS\nThese may stand before or after the command.\n",
        env!("CARGO_PKG_VERSION")
    );
    for f in flags::GLOBAL {
        out.push_str(&man_flag(f));
    }
    out.push_str(".SH COMMANDS\n");
    for a in ACTIONS {
        out.push_str(&format!(".SS \"glacier {}\"\n.nf\n", roff(a.words)));
        for form in a.usage {
            let line = format!("\\fBglacier {}\\fR {}", roff(a.words), roff(form));
            out.push_str(&format!("{}\n", line.trim_end()));
        }
        out.push_str(&format!(".fi\n{}\n", roff(a.summary)));
        // What a group's actions share, said once at its first action.
        let first = actions_of(a.group().0).next().map(|f| f.words) == Some(a.words);
        if let Some(g) = GROUPS.iter().find(|g| first && g.name == a.group().0) {
            out.push_str(&man_paragraphs(g.about));
        }
        out.push_str(&man_paragraphs(a.about));
        for f in a.flags {
            out.push_str(&man_flag(f));
        }
        out.push_str(&man_paragraphs(a.after));
    }
    out.push_str(&format!(
        ".SH EXIT STATUS\n.nf\n{}\n.fi\n",
        roff(super::help::EXIT_CODES.trim_end())
    ));
    out.push_str(
        ".SH SEE ALSO\n\\fBglacier help\\fR \\fICOMMAND\\fR [\\fIACTION\\fR]; docs/commands.md in the source.\n",
    );
    out
}

// ---- completions ----------------------------------------------------------------

/// The words a completion script needs: every flag spelling that takes a value.
fn value_names() -> Vec<&'static str> {
    let mut out: Vec<&str> = ACTIONS
        .iter()
        .flat_map(|a| a.flags.iter())
        .chain(flags::GLOBAL.iter())
        .filter(|f| f.value.is_some())
        .flat_map(|f| f.names())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn all_names(list: &[&Flag]) -> Vec<&'static str> {
    list.iter().flat_map(|f| f.names()).collect()
}

/// Single-quoted for a POSIX shell or fish.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The shell loop both bash and zsh use to find the command and action typed so far,
/// stepping over global flags and their values.
fn find_command(words: &str, from: &str, to: &str) -> String {
    format!(
        "    local cmd='' action='' i w\n\
         \x20   for ((i = {from}; i < {to}; i++)); do\n\
         \x20       w=\"{words}[i]}}\"\n\
         \x20       case \" $_glacier_values \" in *\" $w \"*) ((i++)); continue ;; esac\n\
         \x20       case \"$w\" in -*) continue ;; esac\n\
         \x20       if [[ -z $cmd ]]; then cmd=$w\n\
         \x20       elif [[ -z $action ]]; then action=$w; break; fi\n\
         \x20   done\n\
         \x20   local key=$cmd\n\
         \x20   case \" {} \" in *\" $cmd \"*) key=\"$cmd $action\" ;; esac\n",
        GROUPS.iter().map(|g| g.name).collect::<Vec<_>>().join(" ")
    )
}

/// `case` arms from each action (and `global`) to its flags, for bash and zsh.
fn flag_arms(indent: &str) -> String {
    let global = all_names(flags::GLOBAL).join(" ");
    let mut out = String::new();
    for a in ACTIONS {
        out.push_str(&format!(
            "{indent}{}) opts={} ;;\n",
            quoted(a.words),
            quoted(&format!("{} {global}", all_names(a.flags).join(" ")))
        ));
    }
    out.push_str(&format!("{indent}*) opts={} ;;\n", quoted(&global)));
    out
}

/// `case` arms from "action flag" to the flag's choices.
fn choice_arms(indent: &str) -> String {
    let mut out = String::new();
    for a in ACTIONS {
        for f in a.flags.iter().filter(|f| !f.choices.is_empty()) {
            for n in f.names() {
                out.push_str(&format!(
                    "{indent}{}) choices={} ;;\n",
                    quoted(&format!("{} {n}", a.words)),
                    quoted(&f.choices.join(" "))
                ));
            }
        }
    }
    for f in flags::GLOBAL.iter().filter(|f| !f.choices.is_empty()) {
        for n in f.names() {
            out.push_str(&format!(
                "{indent}*\" {n}\") choices={} ;;\n",
                quoted(&f.choices.join(" "))
            ));
        }
    }
    out
}

fn bash() -> String {
    let top: Vec<&str> = top_level().iter().map(|(w, _)| *w).collect();
    let mut groups = String::new();
    for g in GROUPS {
        let words: Vec<&str> = actions_of(g.name).filter_map(|a| a.group().1).collect();
        groups.push_str(&format!(
            "        {}) words={} ;;\n",
            g.name,
            quoted(&words.join(" "))
        ));
    }
    format!(
        "# bash completion for glacier (generated by 'glacier --generate complete-bash')\n\
         _glacier_values={values}\n\
         _glacier() {{\n\
         \x20   local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}\n\
         {find}\
         \x20   local choices=''\n\
         \x20   case \"$key $prev\" in\n{choices}    esac\n\
         \x20   if [[ -n $choices ]]; then COMPREPLY=($(compgen -W \"$choices\" -- \"$cur\")); return; fi\n\
         \x20   case \" $_glacier_values \" in *\" $prev \"*) COMPREPLY=($(compgen -f -- \"$cur\")); return ;; esac\n\
         \x20   local opts\n\
         \x20   case \"$key\" in\n{arms}    esac\n\
         \x20   if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); return; fi\n\
         \x20   local words=''\n\
         \x20   if [[ -z $cmd ]]; then words={top}\n\
         \x20   elif [[ -z $action ]]; then\n\
         \x20       case \"$cmd\" in\n{groups}        help) words={top} ;;\n        esac\n\
         \x20   fi\n\
         \x20   if [[ -n $words ]]; then COMPREPLY=($(compgen -W \"$words\" -- \"$cur\")); return; fi\n\
         \x20   COMPREPLY=($(compgen -f -- \"$cur\"))\n\
         }}\n\
         complete -o default -F _glacier glacier\n",
        values = quoted(&value_names().join(" ")),
        find = find_command("${COMP_WORDS", "1", "COMP_CWORD"),
        choices = choice_arms("        "),
        arms = flag_arms("        "),
        top = quoted(&top.join(" ")),
    )
}

/// `name:description` pairs for zsh's `_describe`.
fn zsh_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> String {
    pairs
        .into_iter()
        .map(|(n, d)| quoted(&format!("{n}:{}", d.replace(':', "\\:"))))
        .collect::<Vec<_>>()
        .join(" ")
}

fn zsh() -> String {
    let top = zsh_pairs(
        top_level()
            .into_iter()
            .map(|(w, d)| (w.to_string(), d.to_string())),
    );
    let mut groups = String::new();
    for g in GROUPS {
        let pairs = actions_of(g.name)
            .filter_map(|a| a.group().1.map(|w| (w.to_string(), a.summary.to_string())));
        groups.push_str(&format!(
            "        {}) list=({}) ;;\n",
            g.name,
            zsh_pairs(pairs)
        ));
    }
    let mut described = String::new();
    for a in ACTIONS {
        let pairs = a
            .flags
            .iter()
            .chain(flags::GLOBAL.iter())
            .flat_map(|f| f.names().map(move |n| (n.to_string(), one_line(f))));
        described.push_str(&format!(
            "        {}) list=({}) ;;\n",
            quoted(a.words),
            zsh_pairs(pairs)
        ));
    }
    let global = zsh_pairs(
        flags::GLOBAL
            .iter()
            .flat_map(|f| f.names().map(move |n| (n.to_string(), one_line(f)))),
    );
    described.push_str(&format!("        *) list=({global}) ;;\n"));
    format!(
        "#compdef glacier\n\
         # zsh completion for glacier (generated by 'glacier --generate complete-zsh')\n\
         _glacier_values={values}\n\
         _glacier() {{\n\
         \x20   local cur=${{words[CURRENT]}} prev=${{words[CURRENT-1]}}\n\
         {find}\
         \x20   local choices=''\n\
         \x20   case \"$key $prev\" in\n{choices}    esac\n\
         \x20   if [[ -n $choices ]]; then compadd -- ${{=choices}}; return; fi\n\
         \x20   case \" $_glacier_values \" in *\" $prev \"*) _files; return ;; esac\n\
         \x20   local -a list\n\
         \x20   if [[ $cur == -* ]]; then\n\
         \x20       case \"$key\" in\n{described}        esac\n\
         \x20       _describe 'option' list; return\n\
         \x20   fi\n\
         \x20   if [[ -z $cmd ]]; then list=({top}); _describe 'command' list; return; fi\n\
         \x20   if [[ -z $action ]]; then\n\
         \x20       case \"$cmd\" in\n{groups}        help) list=({top}) ;;\n        esac\n\
         \x20       if (( ${{#list}} )); then _describe 'action' list; return; fi\n\
         \x20   fi\n\
         \x20   _files\n\
         }}\n\
         # Autoloaded from fpath this file is the completion function; sourced, it registers.\n\
         if [[ $funcstack[1] == _glacier ]]; then _glacier \"$@\"; else compdef _glacier glacier; fi\n",
        values = quoted(&value_names().join(" ")),
        find = find_command("${words", "2", "CURRENT"),
        choices = choice_arms("        "),
    )
}

fn fish_flag(f: &Flag, condition: Option<&str>) -> String {
    let mut line = String::from("complete -c glacier");
    if let Some(c) = condition {
        line.push_str(&format!(" -n {}", quoted(c)));
    }
    for n in f.names() {
        match n.strip_prefix("--") {
            Some(long) => line.push_str(&format!(" -l {long}")),
            None => line.push_str(&format!(" -s {}", n.trim_start_matches('-'))),
        }
    }
    if f.value.is_some() {
        line.push_str(" -r");
        if !f.choices.is_empty() {
            line.push_str(&format!(" -f -a {}", quoted(&f.choices.join(" "))));
        }
    }
    line.push_str(&format!(" -d {}\n", quoted(&one_line(f))));
    line
}

fn fish() -> String {
    let mut out = String::from(
        "# fish completion for glacier (generated by 'glacier --generate complete-fish')\n\
         complete -c glacier -n '__fish_use_subcommand' -f\n",
    );
    for (w, d) in top_level() {
        out.push_str(&format!(
            "complete -c glacier -n '__fish_use_subcommand' -a {w} -d {}\n",
            quoted(d)
        ));
    }
    for g in GROUPS {
        let words: Vec<&str> = actions_of(g.name).filter_map(|a| a.group().1).collect();
        for a in actions_of(g.name) {
            out.push_str(&format!(
                "complete -c glacier -f -n {} -a {} -d {}\n",
                quoted(&format!(
                    "__fish_seen_subcommand_from {}; and not __fish_seen_subcommand_from {}",
                    g.name,
                    words.join(" ")
                )),
                a.group().1.unwrap_or_default(),
                quoted(a.summary)
            ));
        }
    }
    for f in flags::GLOBAL {
        out.push_str(&fish_flag(f, None));
    }
    for a in ACTIONS {
        let condition = match a.group() {
            (g, Some(w)) => {
                format!("__fish_seen_subcommand_from {g}; and __fish_seen_subcommand_from {w}")
            }
            (g, None) => format!("__fish_seen_subcommand_from {g}"),
        };
        for f in a.flags {
            out.push_str(&fish_flag(f, Some(&condition)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spelling of every flag, with the actions that take it.
    fn every_flag() -> Vec<(&'static str, &'static Flag)> {
        let mut out: Vec<(&str, &Flag)> = flags::GLOBAL.iter().map(|f| ("", *f)).collect();
        for a in ACTIONS {
            out.extend(a.flags.iter().map(|f| (a.words, *f)));
        }
        out
    }

    #[test]
    fn every_flag_and_command_appears_in_each_output() {
        for kind in flags::GENERATE.choices {
            let text = generate(kind);
            for (action, f) in every_flag() {
                for name in f.names() {
                    let spelled = match *kind {
                        "man" => roff(name),
                        "complete-fish" if name.starts_with("--") => format!("-l {}", &name[2..]),
                        "complete-fish" => format!("-s {}", &name[1..]),
                        _ => name.to_string(),
                    };
                    assert!(
                        text.contains(&spelled),
                        "{kind}: {name} of '{action}' missing"
                    );
                }
                for c in f.choices {
                    let c = if *kind == "man" {
                        roff(c)
                    } else {
                        c.to_string()
                    };
                    assert!(text.contains(&c), "{kind}: {c} of {} missing", f.long);
                }
            }
            for a in ACTIONS {
                for w in a.words.split(' ') {
                    let w = if *kind == "man" {
                        roff(w)
                    } else {
                        w.to_string()
                    };
                    assert!(text.contains(&w), "{kind}: '{}' missing", a.words);
                }
            }
        }
    }

    #[test]
    fn the_man_page_puts_flags_under_their_action() {
        let man = generate("man");
        let export = man
            .split(".SS \"glacier vault export")
            .nth(1)
            .expect("export section");
        let export = export.split(".SS").next().expect("section");
        assert!(export.contains("\\fB\\-\\-storage\\-class\\fR"), "{export}");
        assert!(!export.contains("\\-\\-delete\\-vault"), "{export}");
        // No line starts a roff request by accident.
        for line in man.lines() {
            assert!(
                !line.starts_with('\'')
                    && (!line.starts_with('.')
                        || [".TH", ".SH", ".SS", ".TP", ".PP", ".nf", ".fi"]
                            .iter()
                            .any(|r| line.starts_with(r))),
                "{line}"
            );
        }
    }

    #[test]
    fn quoting_survives_apostrophes() {
        assert_eq!(quoted("vault's"), "'vault'\\''s'");
        assert_eq!(roff(".x\\y"), "\\&.x\\ey");
    }

    #[test]
    fn each_kind_the_parser_takes_is_generated() {
        let outputs: Vec<String> = flags::GENERATE
            .choices
            .iter()
            .map(|k| generate(k))
            .collect();
        for (i, a) in outputs.iter().enumerate() {
            for b in &outputs[i + 1..] {
                assert_ne!(a, b, "two kinds give the same text");
            }
        }
    }
}
