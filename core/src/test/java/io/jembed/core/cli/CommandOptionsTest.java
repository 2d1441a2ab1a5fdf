package io.jembed.core.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * Every registered command's declared names ({@link Command#switches()} and {@link Command#options()})
 * against its {@code --help} text, both ways, so the parser and the help cannot drift apart: an
 * option the help shows but the parser refuses, or one the parser takes that the help hides.
 */
class CommandOptionsTest {

    /** {@code --name}, not inside a word (all-MiniLM-L6-v2) or after another dash. */
    static final Pattern LONG = Pattern.compile("(?<![\\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)");
    /** {@code -k}: one letter between a non-word and a non-word ("-k 3", "[-k", "-k,"). */
    static final Pattern SHORT = Pattern.compile("(?<![\\w-])-([a-zA-Z])(?![\\w-])");

    static Set<String> mentioned(String usage) {
        Set<String> names = new TreeSet<>();
        for (Pattern pattern : List.of(LONG, SHORT)) {
            Matcher m = pattern.matcher(usage);
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    @Test
    void everyCommandIsChecked() {
        List<String> names = Main.commands().stream().map(Command::name).toList();
        assertEquals(List.of("demo", "embed", "tokenize", "similarity", "index", "delete", "compact", "search", "serve", "model"), names);
    }

    @Test
    void helpShowsExactlyTheDeclaredNames() {
        for (Command command : Main.commands()) {
            Set<String> overlap = new HashSet<>(command.switches());
            overlap.retainAll(command.options());
            assertTrue(overlap.isEmpty(), command.name() + ": declared both as a switch and as an option: " + overlap);

            Set<String> declared = new TreeSet<>(command.switches());
            declared.addAll(command.options());
            Set<String> inHelp = mentioned(command.usage());

            Set<String> undeclared = new TreeSet<>(inHelp);
            undeclared.removeAll(declared);
            assertEquals(Set.of(), undeclared, command.name() + ": --help shows options the parser refuses");

            Set<String> hidden = new TreeSet<>(declared);
            hidden.removeAll(inHelp);
            assertEquals(Set.of(), hidden, command.name() + ": the parser takes options --help does not show");
        }
    }

    @Test
    void theHelpPatternsFindTheForms() {
        assertEquals(Set.of("k", "json", "max-batch-tokens"),
                mentioned("[-k 3] [--json]\n  -k, --k N  ...  --max-batch-tokens N, all-MiniLM-L6-v2, '-' for stdin, UTF-16"));
    }

    /** Every command refuses an unknown switch while parsing: exit 2 naming it, the next word untouched. */
    @Test
    void everyCommandRefusesAnUnknownSwitchBeforeAWord() {
        for (Command command : Main.commands()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Cli cli = new Cli(new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8), false, false);
            int code = Main.run(new String[] {command.name(), "--no-such-option", "word"}, cli);
            assertEquals(CliException.USAGE, code, command.name() + ": " + err);
            assertEquals("jembed " + command.name() + ": unknown option --no-such-option (see 'jembed " + command.name()
                    + " --help')\n", err.toString(StandardCharsets.UTF_8));
            assertFalse(out.size() > 0, command.name() + " wrote to stdout: " + out);
        }
    }
}
