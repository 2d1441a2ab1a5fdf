package io.jembed.core.pooling;

import java.util.Locale;

/**
 * How token vectors become one sentence vector, one constant per sentence-transformers pooling
 * mode, declared in the order sentence-transformers concatenates them when several are enabled.
 */
public enum PoolingMode {
    /** The first token's vector ([CLS]), whatever the mask says. */
    CLS("cls", "pooling_mode_cls_token"),
    /** Per-dimension maximum over the tokens under the mask. */
    MAX("max", "pooling_mode_max_tokens"),
    /** Sum over the tokens under the mask divided by their count, clamped to at least 1e-9. */
    MEAN("mean", "pooling_mode_mean_tokens"),
    /** Sum over the tokens under the mask divided by the square root of their (clamped) count. */
    MEAN_SQRT_LEN("mean_sqrt_len_tokens", "pooling_mode_mean_sqrt_len_tokens"),
    /** Mean weighted by position: token t (from 0) weighs t + 1. */
    WEIGHTED_MEAN("weightedmean", "pooling_mode_weightedmean_tokens"),
    /** The last token under the mask. */
    LAST_TOKEN("lasttoken", "pooling_mode_lasttoken");

    private final String shortName;
    private final String configKey;

    PoolingMode(String shortName, String configKey) {
        this.shortName = shortName;
        this.configKey = configKey;
    }

    /** sentence-transformers' {@code pooling_mode} string, e.g. "mean" or "weightedmean". */
    public String shortName() {
        return shortName;
    }

    /** The boolean key in {@code 1_Pooling/config.json}, e.g. "pooling_mode_mean_tokens". */
    public String configKey() {
        return configKey;
    }

    /**
     * The mode with this short name; also accepts the enum name in any case with '-' or '_'
     * ("last-token", "MEAN_SQRT_LEN").
     *
     * @throws IllegalArgumentException naming the accepted names
     */
    public static PoolingMode fromName(String name) {
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        for (PoolingMode mode : values()) {
            if (mode.shortName.equals(wanted) || mode.name().toLowerCase(Locale.ROOT).equals(wanted.replace('-', '_'))) {
                return mode;
            }
        }
        StringBuilder known = new StringBuilder();
        for (PoolingMode mode : values()) {
            known.append(known.isEmpty() ? "" : ", ").append(mode.shortName);
        }
        throw new IllegalArgumentException("pooling mode: expected one of " + known + ", found '" + name + "'");
    }
}
