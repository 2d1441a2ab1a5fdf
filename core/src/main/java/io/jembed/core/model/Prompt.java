package io.jembed.core.model;

import java.util.Objects;

/**
 * A prompt prepended to a text before tokenizing, as sentence-transformers' {@code prompt} and
 * {@code prompt_name} arguments: either a literal text, or the name of one of the model's prompts
 * ({@code config_sentence_transformers.json}), resolved against the model by {@link Prompts#resolve}.
 *
 * @param name the prompt's name in the model's prompts, or null for a literal or no prompt
 * @param text the prompt text, or null while a named prompt is unresolved; "" for no prompt
 */
public record Prompt(String name, String text) {

    /** No prompt: the text is embedded as given. */
    public static final Prompt NONE = new Prompt(null, "");

    public Prompt {
        if (name == null && text == null) {
            throw new IllegalArgumentException("prompt: expected a name or a text, found neither");
        }
        if (name != null && name.isEmpty()) {
            throw new IllegalArgumentException("prompt name: expected a non-empty name, found \"\"");
        }
    }

    /** The model's prompt of this name (sentence-transformers' {@code prompt_name}). */
    public static Prompt named(String name) {
        return new Prompt(Objects.requireNonNull(name, "name"), null);
    }

    /** A literal prompt (sentence-transformers' {@code prompt}); "" means none. */
    public static Prompt text(String text) {
        return text.isEmpty() ? NONE : new Prompt(null, Objects.requireNonNull(text, "text"));
    }

    /** True when a text embedded with this prompt is embedded as given. */
    public boolean isEmpty() {
        return text != null && text.isEmpty();
    }

    /** True once the text is known. */
    public boolean isResolved() {
        return text != null;
    }

    /** How messages show it: {@code 'query' ("query: ")}, {@code "passage: "} or {@code none}. */
    public String describe() {
        if (isEmpty() && name == null) {
            return "none";
        }
        String quoted = text == null ? "" : "\"" + text + "\"";
        return name == null ? quoted : "'" + name + "'" + (text == null ? "" : " (" + quoted + ")");
    }
}
