package io.jembed.core.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A model's named prompts and default prompt, as {@code config_sentence_transformers.json} holds
 * them ({@code "prompts": {"query": "query: ", ...}, "default_prompt_name": null}), and the rules by
 * which sentence-transformers picks one:
 * <ul>
 *   <li>{@code encode}: the default prompt if the model names one, else none;</li>
 *   <li>{@code encode_query}: the prompt named {@code query}, else as {@code encode};</li>
 *   <li>{@code encode_document}: the first of {@code document}, {@code passage}, {@code corpus}
 *       the model has, else as {@code encode}.</li>
 * </ul>
 *
 * @param prompts           name to prompt text, in file order; unmodifiable
 * @param defaultPromptName the name of the default prompt, or null
 */
public record Prompts(Map<String, String> prompts, String defaultPromptName) {

    /** A model without prompts. */
    public static final Prompts NONE = new Prompts(Map.of(), null);

    /** Names {@code encode_document} tries, in order. */
    public static final List<String> DOCUMENT_NAMES = List.of("document", "passage", "corpus");
    /** The name {@code encode_query} uses. */
    public static final String QUERY_NAME = "query";

    public Prompts {
        Objects.requireNonNull(prompts, "prompts");
        for (Map.Entry<String, String> prompt : prompts.entrySet()) {
            if (prompt.getKey() == null || prompt.getKey().isEmpty() || prompt.getValue() == null) {
                throw new IllegalArgumentException("prompts: expected non-empty names with text, found "
                        + prompt.getKey() + " = " + prompt.getValue());
            }
        }
        prompts = Collections.unmodifiableMap(new LinkedHashMap<>(prompts));
        if (defaultPromptName != null && !prompts.containsKey(defaultPromptName)) {
            throw new IllegalArgumentException("default_prompt_name: expected one of " + prompts.keySet()
                    + ", found '" + defaultPromptName + "'");
        }
    }

    /** The prompt {@code encode} applies when given none. */
    public Prompt defaultPrompt() {
        return defaultPromptName == null ? Prompt.NONE : new Prompt(defaultPromptName, prompts.get(defaultPromptName));
    }

    /** The prompt {@code encode_query} applies. */
    public Prompt queryPrompt() {
        return prompts.containsKey(QUERY_NAME) ? new Prompt(QUERY_NAME, prompts.get(QUERY_NAME)) : defaultPrompt();
    }

    /** The prompt {@code encode_document} applies. */
    public Prompt documentPrompt() {
        for (String name : DOCUMENT_NAMES) {
            if (prompts.containsKey(name)) {
                return new Prompt(name, prompts.get(name));
            }
        }
        return defaultPrompt();
    }

    /** The text of the prompt of this name, if the model has one. */
    public Optional<String> get(String name) {
        return Optional.ofNullable(prompts.get(name));
    }

    /**
     * A prompt with its text: a literal prompt as it is, a named one looked up here.
     *
     * @throws IllegalArgumentException for a name the model has no prompt for
     */
    public Prompt resolve(Prompt prompt) {
        Objects.requireNonNull(prompt, "prompt");
        if (prompt.isResolved()) {
            return prompt;
        }
        String text = prompts.get(prompt.name());
        if (text == null) {
            throw new IllegalArgumentException("prompt name '" + prompt.name() + "': expected one of the model's prompts "
                    + (prompts.isEmpty() ? "(it has none)" : prompts.keySet().toString()) + ", found no such prompt");
        }
        return new Prompt(prompt.name(), text);
    }

    public boolean isEmpty() {
        return prompts.isEmpty();
    }
}
