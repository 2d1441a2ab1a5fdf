package io.jembed.core.server;

/**
 * The server's metrics, named as TEI names them where TEI has one (te_*), jembed_* for search.
 * Durations in seconds, lengths in tokens.
 */
final class ServerMetrics {

    final Metrics registry = new Metrics();
    final Metrics.Counter requestCount = registry.counter("te_request_count", "Embedding requests received", "method");
    final Metrics.Counter requestSuccess = registry.counter("te_request_success", "Embedding requests answered", "method");
    final Metrics.Counter requestFailure = registry.counter("te_request_failure", "Requests refused or failed, by error type", "err");
    final Metrics.Histogram requestDuration = registry.histogram("te_request_duration",
            "Time from receiving an embedding request to its answer, seconds", Metrics.SECONDS);
    final Metrics.Histogram tokenizationDuration = registry.histogram("te_request_tokenization_duration",
            "Time to tokenize a request's inputs, seconds", Metrics.SECONDS);
    final Metrics.Histogram queueDuration = registry.histogram("te_request_queue_duration",
            "Time a request's first input waited for a forward pass, seconds", Metrics.SECONDS);
    final Metrics.Histogram inferenceDuration = registry.histogram("te_request_inference_duration",
            "Time from a request's first forward pass to its last input pooled, seconds", Metrics.SECONDS);
    final Metrics.Histogram inputLength;
    final Metrics.Histogram batchSize = registry.histogram("te_batch_next_size", "Inputs per forward pass",
            Metrics.powersOfTwo(12, Long.MAX_VALUE));
    final Metrics.Histogram batchTokens = registry.histogram("te_batch_next_tokens", "Tokens per forward pass",
            Metrics.powersOfTwo(20, Long.MAX_VALUE));
    final Metrics.Counter searchCount = registry.counter("jembed_search_count", "Search requests answered");
    final Metrics.Histogram searchDuration = registry.histogram("jembed_search_duration",
            "Time to answer a search request, embedding the query included, seconds", Metrics.SECONDS);
    final Metrics.Histogram searchScanDuration = registry.histogram("jembed_search_scan_duration",
            "Time to scan the index for a query vector, seconds", Metrics.SECONDS);

    ServerMetrics(java.util.function.LongSupplier queueSize, java.util.function.LongSupplier inFlight, long indexSize, int maxInputLength) {
        inputLength = registry.histogram("te_request_input_length", "Tokens per input, [CLS] and [SEP] included",
                Metrics.powersOfTwo(19, maxInputLength));
        registry.gauge("te_queue_size", "Inputs waiting for a forward pass", queueSize);
        registry.gauge("jembed_requests_in_flight", "Requests admitted and not yet answered", inFlight);
        registry.gauge("jembed_index_documents", "Documents in the served index (0 without --index)", () -> indexSize);
    }


    String scrape() {
        return registry.scrape();
    }
}
