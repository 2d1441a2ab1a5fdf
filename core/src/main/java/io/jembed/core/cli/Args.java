package io.jembed.core.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The words after the command name: options ({@code --name value}, {@code --name=value},
 * {@code -k 3}), switches ({@code --append}) and positional arguments. A command declares both
 * kinds up front: only then can a word after an unknown {@code --name} be known to be a positional
 * rather than that option's value, so an unknown name is refused while parsing. Every option a
 * command reads is marked used, and {@link #finish()} rejects declared ones its run did not read
 * (an option of another sub-command, say).
 */
public final class Args {

    private final String command;
    private final Set<String> switchNames;
    private final Set<String> optionNames;
    private final Map<String, List<String>> options = new LinkedHashMap<>();
    private final Set<String> switches = new HashSet<>();
    private final List<String> positionals = new ArrayList<>();
    private final Set<String> used = new HashSet<>();
    /** How each option was written ("-n", "--treads"), so messages name what the user typed. */
    private final Map<String, String> spelled = new LinkedHashMap<>();

    private Args(String command, Set<String> switchNames, Set<String> optionNames) {
        this.command = command;
        this.switchNames = Set.copyOf(switchNames);
        this.optionNames = Set.copyOf(optionNames);
    }

    /**
     * @param switchNames options that take no value, without dashes (e.g. "append", "json")
     * @param optionNames options that take a value, without dashes, short aliases included (e.g. "k")
     * @throws CliException (usage) for a name in neither set, named as typed
     */
    public static Args parse(String command, String[] words, Set<String> switchNames, Set<String> optionNames) {
        Args args = new Args(command, switchNames, optionNames);
        boolean onlyPositionals = false;
        for (int i = 0; i < words.length; i++) {
            String word = words[i];
            if (onlyPositionals || word.equals("-") || !word.startsWith("-") || isNumber(word)) {
                args.positionals.add(word);
                continue;
            }
            if (word.equals("--")) {
                onlyPositionals = true;
                continue;
            }
            String name = word.startsWith("--") ? word.substring(2) : word.substring(1);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (name.isEmpty()) {
                throw CliException.usage(command + ": '" + word + "' is not an option");
            }
            String spelled = (word.startsWith("--") ? "--" : "-") + name;
            args.spelled.putIfAbsent(name, spelled);
            if (!switchNames.contains(name) && !optionNames.contains(name)) {
                throw unknown(command, spelled);
            }
            if (switchNames.contains(name)) {
                if (value != null) {
                    throw CliException.usage(command + ": --" + name + " takes no value, found '" + value + "'");
                }
                args.switches.add(name);
                continue;
            }
            if (value == null) {
                if (i + 1 >= words.length) {
                    throw CliException.usage(command + ": option --" + name + " needs a value");
                }
                value = words[++i];
            }
            args.options.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return args;
    }

    /** The option names of several groups (a command's own and the shared ones it reads), as one set. */
    @SafeVarargs
    public static Set<String> names(Set<String>... groups) {
        Set<String> all = new HashSet<>();
        for (Set<String> group : groups) {
            all.addAll(group);
        }
        return Set.copyOf(all);
    }

    /**
     * A command reading a name it did not declare is a bug (the parser would refuse that name from
     * the user), so it fails on every run of that path, not only when someone passes the option.
     */
    private void declared(String name, Set<String> names, String kind) {
        if (!names.contains(name)) {
            throw new IllegalStateException(command + " reads --" + name + " but does not declare it as a " + kind
                    + " (Command.switches() and options())");
        }
    }

    private static CliException unknown(String command, String spelled) {
        return CliException.usage(command + ": unknown option " + spelled + " (see 'jembed " + command + " --help')");
    }

    private static boolean isNumber(String word) {
        return word.length() > 1 && (Character.isDigit(word.charAt(1)) || word.charAt(1) == '.');
    }

    public String command() {
        return command;
    }

    public boolean flag(String name) {
        declared(name, switchNames, "switch");
        used.add(name);
        return switches.contains(name);
    }

    public Optional<String> option(String... names) {
        String found = null;
        String foundName = null;
        for (String name : names) {
            declared(name, optionNames, "option");
            used.add(name);
            List<String> values = options.get(name);
            if (values != null && values.size() > 1) {
                throw CliException.usage(command + ": option --" + name + " is given twice");
            }
            String value = values == null ? null : values.get(0);
            if (value != null) {
                if (found != null) {
                    throw CliException.usage(command + ": --" + foundName + " and --" + name + " mean the same; give one");
                }
                found = value;
                foundName = name;
            }
        }
        return Optional.ofNullable(found);
    }

    /** Every value of an option that may be repeated ({@code --prompt a=x --prompt b=y}), in order. */
    public List<String> all(String name) {
        declared(name, optionNames, "option");
        used.add(name);
        return List.copyOf(options.getOrDefault(name, List.of()));
    }

    public String string(String name, String defaultValue) {
        return option(name).orElse(defaultValue);
    }

    public String required(String name) {
        return option(name).orElseThrow(() -> CliException.usage(command + ": missing --" + name
                + " (see 'jembed " + command + " --help')"));
    }

    public Optional<Path> path(String name) {
        return option(name).map(Path::of);
    }

    public int intValue(String name, int defaultValue, int min, int max) {
        Optional<String> text = option(name);
        if (text.isEmpty()) {
            return defaultValue;
        }
        return parseInt("--" + name, text.get(), min, max);
    }

    /** Same as {@link #intValue(String, int, int, int)}, for options with a short alias such as -k. */
    public int intValue(String[] names, int defaultValue, int min, int max) {
        Optional<String> text = option(names);
        if (text.isEmpty()) {
            return defaultValue;
        }
        return parseInt("--" + names[0], text.get(), min, max);
    }

    private int parseInt(String what, String text, int min, int max) {
        int value;
        try {
            value = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw CliException.usage(command + ": " + what + " expects a whole number, found '" + text + "'");
        }
        if (value < min || value > max) {
            throw CliException.usage(command + ": " + what + " must be between " + min + " and " + max
                    + ", found " + value);
        }
        return value;
    }

    public <E extends Enum<E>> E choice(String name, Class<E> type, E defaultValue) {
        Optional<String> text = option(name);
        if (text.isEmpty()) {
            return defaultValue;
        }
        StringBuilder allowed = new StringBuilder();
        for (E value : type.getEnumConstants()) {
            String word = value.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
            if (word.equals(text.get())) {
                return value;
            }
            allowed.append(allowed.isEmpty() ? "" : "|").append(word);
        }
        throw CliException.usage(command + ": --" + name + " expects " + allowed + ", found '" + text.get() + "'");
    }

    public List<String> positionals() {
        return positionals;
    }

    /**
     * Rejects options given but not read by this run: declared by the command, yet meaningless on
     * this path ({@code model list --onnx x}), so they do not pass silently.
     */
    public void finish() {
        for (String name : spelled.keySet()) {
            if (!used.contains(name)) {
                throw unknown(command, spelled.get(name));
            }
        }
    }

    /** Rejects positional arguments for commands that take none. */
    public void noPositionals() {
        if (!positionals.isEmpty()) {
            throw CliException.usage(command + ": unexpected argument '" + positionals.get(0)
                    + "' (see 'jembed " + command + " --help')");
        }
    }
}
