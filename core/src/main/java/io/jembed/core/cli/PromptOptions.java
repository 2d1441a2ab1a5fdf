package io.jembed.core.cli;

import java.util.Optional;
import java.util.Set;

import io.jembed.core.model.Prompt;
import io.jembed.core.model.Prompts;

/** {@code --prompt-name NAME} or {@code --prompt TEXT} (one or neither): a prompt that overrides the automatic one. */
final class PromptOptions {

    static final String USAGE = """
              --prompt-name NAME one of the model's prompts (config_sentence_transformers.json)
              --prompt TEXT      a literal prompt prepended to every text ("" for none)""";

    /** The options {@link #read} reads. */
    static final Set<String> NAMES = Set.of("prompt-name", "prompt");

    private PromptOptions() {
    }

    /** The prompt the options give, or empty when neither is given. */
    static Optional<Prompt> read(Args args) {
        Optional<String> name = args.option("prompt-name");
        Optional<String> text = args.option("prompt");
        if (name.isPresent() && text.isPresent()) {
            throw CliException.usage(args.command() + ": --prompt-name and --prompt exclude each other; give one");
        }
        if (name.isPresent()) {
            if (name.get().isEmpty()) {
                throw CliException.usage(args.command() + ": --prompt-name expects a name, found \"\"");
            }
            return Optional.of(Prompt.named(name.get()));
        }
        return text.map(Prompt::text);
    }

    /** A prompt resolved against the model, a bad name being a usage error that lists the model's prompts. */
    static Prompt resolve(Args args, Prompts prompts, Prompt prompt) {
        try {
            return prompts.resolve(prompt);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(args.command() + ": --" + e.getMessage().replaceFirst("^prompt name", "prompt-name"));
        }
    }
}
