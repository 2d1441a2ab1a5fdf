package io.jembed.core.server;

import java.util.Objects;

/**
 * How {@link EmbeddingServer} listens and what it admits; the defaults are TEI's.
 *
 * @param host                  the address to bind (loopback unless told otherwise)
 * @param port                  0 for an ephemeral port
 * @param maxClientBatchSize    most inputs in one request (TEI's --max-client-batch-size)
 * @param maxConcurrentRequests most requests admitted at once; more are answered 429 (TEI's
 *                              --max-concurrent-requests)
 * @param payloadLimit          most bytes in a request body (TEI's --payload-limit)
 * @param apiKey                the bearer token every route but /health wants; null for none
 * @param corsAllowOrigin       the origin browsers may call from; null for none (same origin only)
 * @param autoTruncate          whether inputs longer than the max length are cut when a request
 *                              does not say (TEI's --auto-truncate)
 */
public record ServerOptions(String host, int port, int maxClientBatchSize, int maxConcurrentRequests,
                            long payloadLimit, String apiKey, String corsAllowOrigin, boolean autoTruncate) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final int DEFAULT_MAX_CLIENT_BATCH_SIZE = 32;
    public static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 512;
    public static final long DEFAULT_PAYLOAD_LIMIT = 2_000_000;

    public ServerOptions {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port: expected 0 to 65535, found " + port);
        }
        if (maxClientBatchSize < 1) {
            throw new IllegalArgumentException("max client batch size: expected >= 1, found " + maxClientBatchSize);
        }
        if (maxConcurrentRequests < 1) {
            throw new IllegalArgumentException("max concurrent requests: expected >= 1, found " + maxConcurrentRequests);
        }
        if (payloadLimit < 1) {
            throw new IllegalArgumentException("payload limit: expected >= 1 byte, found " + payloadLimit);
        }
        if (apiKey != null && apiKey.isEmpty()) {
            throw new IllegalArgumentException("api key: expected a non-empty key or none");
        }
    }

    /** TEI's defaults on 127.0.0.1:8080 (auto-truncate on, as TEI's --auto-truncate). */
    public static ServerOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options to change from TEI's defaults; {@link #build()} validates them. */
    public static final class Builder {
        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private int maxClientBatchSize = DEFAULT_MAX_CLIENT_BATCH_SIZE;
        private int maxConcurrentRequests = DEFAULT_MAX_CONCURRENT_REQUESTS;
        private long payloadLimit = DEFAULT_PAYLOAD_LIMIT;
        private String apiKey;
        private String corsAllowOrigin;
        private boolean autoTruncate = true;

        private Builder() {
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** 0 for an ephemeral port. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder maxClientBatchSize(int maxClientBatchSize) {
            this.maxClientBatchSize = maxClientBatchSize;
            return this;
        }

        public Builder maxConcurrentRequests(int maxConcurrentRequests) {
            this.maxConcurrentRequests = maxConcurrentRequests;
            return this;
        }

        public Builder payloadLimit(long payloadLimit) {
            this.payloadLimit = payloadLimit;
            return this;
        }

        /** null for none. */
        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        /** null for none, "*" for any origin. */
        public Builder corsAllowOrigin(String corsAllowOrigin) {
            this.corsAllowOrigin = corsAllowOrigin;
            return this;
        }

        public Builder autoTruncate(boolean autoTruncate) {
            this.autoTruncate = autoTruncate;
            return this;
        }

        public ServerOptions build() {
            return new ServerOptions(host, port, maxClientBatchSize, maxConcurrentRequests, payloadLimit, apiKey,
                    corsAllowOrigin, autoTruncate);
        }
    }
}
