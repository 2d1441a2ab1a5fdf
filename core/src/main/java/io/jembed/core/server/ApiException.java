package io.jembed.core.server;

/**
 * A request the server refuses: the HTTP status, TEI's error type and a message saying what was
 * wrong, where, expected and found. Routes throw it; {@link EmbeddingServer} writes it in the
 * route family's error shape.
 */
final class ApiException extends RuntimeException {

    /** TEI's ErrorType, as it appears in error bodies and in te_request_failure{err}. */
    enum Type {
        UNHEALTHY("Unhealthy", "unhealthy"),
        BACKEND("Backend", "inference"),
        OVERLOADED("Overloaded", "overloaded"),
        VALIDATION("Validation", "validation"),
        TOKENIZER("Tokenizer", "tokenization"),
        EMPTY("Empty", "validation"),
        UNAUTHORIZED("Unauthorized", "unauthorized"),
        NOT_FOUND("NotFound", "not_found"),
        PAYLOAD_TOO_LARGE("PayloadTooLarge", "payload_limit"),
        MALFORMED("Malformed", "validation");

        /** The error_type string in the body. */
        final String name;
        /** The err label of te_request_failure. */
        final String label;

        Type(String name, String label) {
            this.name = name;
            this.label = label;
        }
    }

    final int status;
    final Type type;
    /** The err label te_request_failure counts it under (TEI's: validation, batch_size, overloaded, ...). */
    final String metricLabel;

    ApiException(int status, Type type, String message) {
        this(status, type, message, type.label);
    }

    ApiException(int status, Type type, String message, String metricLabel) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.metricLabel = metricLabel;
    }
}
