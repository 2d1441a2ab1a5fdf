package io.jembed.core.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * {@link Args#parse}: an unknown name is refused as typed while parsing, so it can no longer take
 * the next word as its value (the two reported examples), and the forms that worked still do.
 */
class ArgsTest {

    static final Set<String> EMBED_SWITCHES = Set.of();
    static final Set<String> EMBED_OPTIONS = Set.of("input", "output", "format");
    static final Set<String> SEARCH_SWITCHES = Set.of("json");
    static final Set<String> SEARCH_OPTIONS = Set.of("index", "k", "queries");

    static CliException refused(String command, Set<String> switches, Set<String> options, String... words) {
        return assertThrows(CliException.class, () -> Args.parse(command, words, switches, options));
    }

    @Test
    void unknownSwitchAtTheEndIsNamedNotAskedForAValue() {
        CliException e = refused("embed", EMBED_SWITCHES, EMBED_OPTIONS,
                "--input", "ok.jsonl", "--output", "u.jsonl", "--normalize");
        assertEquals(CliException.USAGE, e.exitCode());
        assertEquals("embed: unknown option --normalize (see 'jembed embed --help')", e.getMessage());
    }

    @Test
    void unknownSwitchBeforeTheQuestionIsNamedAndDoesNotSwallowIt() {
        CliException e = refused("search", SEARCH_SWITCHES, SEARCH_OPTIONS, "--index", "ix", "--pretty", "vitamin D");
        assertEquals(CliException.USAGE, e.exitCode());
        assertEquals("search: unknown option --pretty (see 'jembed search --help')", e.getMessage());
        // The same words with a known switch: the question stays a positional.
        Args args = Args.parse("search", new String[] {"--index", "ix", "--json", "vitamin D"}, SEARCH_SWITCHES,
                SEARCH_OPTIONS);
        assertEquals(List.of("vitamin D"), args.positionals());
        assertTrue(args.flag("json"));
    }

    @Test
    void unknownNamesAreQuotedAsTyped() {
        assertEquals("search: unknown option -n (see 'jembed search --help')",
                refused("search", SEARCH_SWITCHES, SEARCH_OPTIONS, "-n", "5", "sky").getMessage());
        assertEquals("search: unknown option --pretty (see 'jembed search --help')",
                refused("search", SEARCH_SWITCHES, SEARCH_OPTIONS, "--pretty=yes", "sky").getMessage());
        assertEquals("embed: unknown option --treads (see 'jembed embed --help')",
                refused("embed", EMBED_SWITCHES, EMBED_OPTIONS, "--treads", "4").getMessage());
    }

    @Test
    void shortAliasAndEqualsFormsStillWork() {
        for (String[] words : List.of(new String[] {"-k", "3", "q"}, new String[] {"--k=3", "q"},
                new String[] {"-k=3", "q"}, new String[] {"--k", "3", "q"})) {
            Args args = Args.parse("search", words, SEARCH_SWITCHES, SEARCH_OPTIONS);
            assertEquals(3, args.intValue(new String[] {"k"}, 1, 1, 100), String.join(" ", words));
            assertEquals(List.of("q"), args.positionals(), String.join(" ", words));
            args.finish();
        }
    }

    @Test
    void negativeNumbersDashAndDoubleDashStayPositionals() {
        Args args = Args.parse("similarity", new String[] {"-3", "-.5", "-", "--", "--not-an-option", "-x"},
                Set.of(), Set.of("model"));
        assertEquals(List.of("-3", "-.5", "-", "--not-an-option", "-x"), args.positionals());
    }

    @Test
    void knownOptionsKeepTheirChecks() {
        assertEquals("embed: option --input needs a value",
                refused("embed", EMBED_SWITCHES, EMBED_OPTIONS, "--output", "o", "--input").getMessage());
        assertEquals("search: --json takes no value, found 'yes'",
                refused("search", SEARCH_SWITCHES, SEARCH_OPTIONS, "--json=yes").getMessage());
        assertEquals("search: '--=3' is not an option",
                refused("search", SEARCH_SWITCHES, SEARCH_OPTIONS, "--=3").getMessage());
        // A declared option this run did not read is still refused at the end.
        Args args = Args.parse("embed", new String[] {"--format", "txt"}, EMBED_SWITCHES, EMBED_OPTIONS);
        assertEquals("embed: unknown option --format (see 'jembed embed --help')",
                assertThrows(CliException.class, args::finish).getMessage());
    }

    @Test
    void readingAnUndeclaredNameIsABug() {
        Args args = Args.parse("search", new String[] {"--index", "ix", "q"}, SEARCH_SWITCHES, SEARCH_OPTIONS);
        assertEquals("search reads --pretty but does not declare it as a switch (Command.switches() and options())",
                assertThrows(IllegalStateException.class, () -> args.flag("pretty")).getMessage());
        assertThrows(IllegalStateException.class, () -> args.option("json"));
        assertThrows(IllegalStateException.class, () -> args.intValue(new String[] {"k", "n"}, 3, 1, 10));
        assertThrows(IllegalStateException.class, () -> args.all("prompt"));
    }

    /** The reported command lines, through Main: exit 2 and the one-line message, before any model is needed. */
    @Test
    void reportedCommandLines() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Cli cli = new Cli(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false, false);
        assertEquals(CliException.USAGE, Main.run(new String[] {"embed", "--input", "ok.jsonl", "--output", "u.jsonl",
                "--normalize"}, cli));
        assertEquals("jembed embed: unknown option --normalize (see 'jembed embed --help')\n",
                err.toString(StandardCharsets.UTF_8));
        err.reset();
        assertEquals(CliException.USAGE, Main.run(new String[] {"search", "--index", "ix", "--pretty", "vitamin D"}, cli));
        assertEquals("jembed search: unknown option --pretty (see 'jembed search --help')\n",
                err.toString(StandardCharsets.UTF_8));
    }
}
