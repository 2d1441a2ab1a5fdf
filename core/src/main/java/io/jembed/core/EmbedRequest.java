package io.jembed.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

import io.jembed.core.model.Prompt;
import io.jembed.tokenizer.TruncationDirection;

/**
 * One call's worth of texts for {@link Embedder#embed(EmbedRequest)}, with how to treat them: the
 * prompt, and what to do with a text longer than the model's max length (cut it at the right, as
 * sentence-transformers does; cut it at the left; or refuse the call).
 *
 * <pre>{@code
 * EmbedResult result = embedder.embed(EmbedRequest.of(texts).prompt(Prompt.named("query")));
 * EmbedResult strict = embedder.embed(EmbedRequest.of(texts).refuseTruncation());
 * }</pre>
 *
 * <p>Immutable: every option returns a new request. The texts are copied once, at {@link #of}.
 */
public final class EmbedRequest {

    private final List<String> texts;
    private final Prompt prompt;
    private final boolean truncate;
    private final TruncationDirection direction;

    private EmbedRequest(List<String> texts, Prompt prompt, boolean truncate, TruncationDirection direction) {
        this.texts = texts;
        this.prompt = prompt;
        this.truncate = truncate;
        this.direction = direction;
    }

    /**
     * Texts under the model's default prompt, truncated at the right.
     *
     * @throws IllegalArgumentException if a text is null (naming its index)
     */
    public static EmbedRequest of(List<String> texts) {
        Objects.requireNonNull(texts, "texts");
        List<String> copy = new ArrayList<>(texts.size());
        for (String text : texts) {
            if (text == null) {
                throw new IllegalArgumentException("texts: expected no null text, found one at index " + copy.size());
            }
            copy.add(text);
        }
        return new EmbedRequest(Collections.unmodifiableList(copy), null, true, TruncationDirection.RIGHT);
    }

    /** One text. */
    public static EmbedRequest of(String text) {
        return of(List.of(Objects.requireNonNull(text, "text")));
    }

    /** Other texts with this request's prompt and truncation. */
    public EmbedRequest withTexts(List<String> texts) {
        return new EmbedRequest(of(texts).texts, prompt, truncate, direction);
    }

    /** The same texts under a prompt ({@link Prompt#named}, {@link Prompt#text} or {@link Prompt#NONE}). */
    public EmbedRequest prompt(Prompt prompt) {
        return new EmbedRequest(texts, Objects.requireNonNull(prompt, "prompt"), truncate, direction);
    }

    /** Cut texts past the max length, keeping their beginning (RIGHT, the default) or their end (LEFT). */
    public EmbedRequest truncate(TruncationDirection direction) {
        return new EmbedRequest(texts, prompt, true, Objects.requireNonNull(direction, "direction"));
    }

    /** Fail the call with {@link InputTooLongException} if any text is longer than the max length. */
    public EmbedRequest refuseTruncation() {
        return new EmbedRequest(texts, prompt, false, direction);
    }

    public List<String> texts() {
        return texts;
    }

    public int size() {
        return texts.size();
    }

    /** The prompt, or null for the model's default prompt. */
    public Prompt prompt() {
        return prompt;
    }

    /** False when a text past the max length fails the call. */
    public boolean truncates() {
        return truncate;
    }

    public TruncationDirection truncationDirection() {
        return direction;
    }
}
