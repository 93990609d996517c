import AgentWatcher

/// `completion bash|zsh|fish`: a completion script made from `CommandTable`.
enum CompletionCommand {
    static func main(_ args: Arguments) throws -> Int32 {
        switch args.positionals[0] {
        case "bash": Console.out(bash())
        case "zsh": Console.out(zsh())
        case "fish": Console.out(fish())
        case let other: throw args.usageError("SHELL must be bash, zsh or fish, got '\(other)'")
        }
        return 0
    }

    static func words(_ c: CommandSpec) -> [String] {
        c.options.flatMap { o in ["--\(o.name)"] + (o.short.map { ["-\($0)"] } ?? []) } + ["--help"]
    }

    static func bash() -> String {
        var s = """
        # agent-watcher completion for bash: source it, or put it in ~/.local/share/bash-completion/completions/
        _agent_watcher() {
            local cur=${COMP_WORDS[COMP_CWORD]}
            if [ "$COMP_CWORD" -eq 1 ]; then
                COMPREPLY=($(compgen -W "\(CommandTable.all.map(\.name).joined(separator: " ")) --version --help" -- "$cur"))
                return
            fi
            case "${COMP_WORDS[1]}" in

        """
        for c in CommandTable.all {
            s += "        \(c.name)) COMPREPLY=($(compgen -W \"\(words(c).joined(separator: " "))\" -- \"$cur\"))"
            s += "; [ ${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
        }
        s += """
            esac
        }
        complete -F _agent_watcher agent-watcher
        """
        return s
    }

    static func zsh() -> String {
        var s = """
        #compdef agent-watcher
        # agent-watcher completion for zsh: put it as _agent-watcher in a folder of $fpath
        _agent_watcher() {
          if (( CURRENT == 2 )); then
            local -a cmds
            cmds=(

        """
        for c in CommandTable.all { s += "      '\(c.name):\(c.summary.replacingOccurrences(of: "'", with: "'\\''"))'\n" }
        s += """
            )
            _describe 'command' cmds
            return
          fi
          case $words[2] in

        """
        for c in CommandTable.all { s += "    \(c.name)) compadd -- \(words(c).joined(separator: " ")); _files ;;\n" }
        s += """
          esac
        }
        compdef _agent_watcher agent-watcher
        """
        return s
    }

    static func fish() -> String {
        func q(_ t: String) -> String { "'" + t.replacingOccurrences(of: "'", with: "\\'") + "'" }
        var lines = ["# agent-watcher completion for fish: put it in ~/.config/fish/completions/agent-watcher.fish",
                     "complete -c agent-watcher -f"]
        for c in CommandTable.all {
            lines.append("complete -c agent-watcher -n __fish_use_subcommand -a \(c.name) -d \(q(c.summary))")
            for o in c.options {
                var line = "complete -c agent-watcher -n '__fish_seen_subcommand_from \(c.name)' -l \(o.name)"
                if let sh = o.short { line += " -s \(sh)" }
                if o.kind != .flag { line += " -r" }
                if case .choice(let values) = o.kind { line += " -a \(q(values.joined(separator: " ")))" }
                if o.kind == .path { line += " -F" }
                lines.append(line + " -d \(q(o.summary))")
            }
        }
        return lines.joined(separator: "\n")
    }
}
