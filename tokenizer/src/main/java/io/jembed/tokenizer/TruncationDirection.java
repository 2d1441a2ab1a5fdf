package io.jembed.tokenizer;

/**
 * Which end of a text's tokens is dropped when it is longer than the max length, as Hugging Face
 * tokenizers' {@code TruncationDirection}: RIGHT keeps the first tokens, LEFT the last. The
 * special tokens ([CLS], [SEP]) are added after truncation either way.
 */
public enum TruncationDirection {
    RIGHT,
    LEFT
}
