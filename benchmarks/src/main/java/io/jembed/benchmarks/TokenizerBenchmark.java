package io.jembed.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.jembed.core.model.ModelCatalog;
import io.jembed.tokenizer.Encoding;
import io.jembed.tokenizer.WordPieceTokenizer;

/**
 * Tokens per second, single-threaded, of jembed's tokenizer and of Hugging Face tokenizers (the
 * Rust crate, called from Java through DJL) on the same texts in the same run: every STS Benchmark
 * test sentence (2,758, about 14 tokens each), or the first 400 SQuAD dev paragraphs (about 170
 * tokens each), with no truncation or with truncation at 256. Both produce identical ids (see
 * TokenizerParityTest).
 *
 * <p>One operation is a pass over the corpus; the {@code tokens} counter is the score to read (JMH
 * reports it per second). Texts come from {@code ../shared/data} beside the repository (run from
 * the repository root, or pass {@code -jvmArgsAppend -Djembed.sharedData=DIR}); the default model's
 * tokenizer.json from the langchain4j jar in the local Maven repository.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar TokenizerBenchmark
 * java -jar benchmarks/target/benchmarks.jar TokenizerBenchmark -p corpus=stsb -p maxLength=0
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(1)
public class TokenizerBenchmark {

    static final Path MODEL_JAR = OrtPeer.localJar(ModelCatalog.defaultEntry());
    static final String TOKENIZER_ENTRY = ModelCatalog.defaultEntry().tokenizerEntry();
    private static final int PARAGRAPHS = 400;

    /** stsb: STS-B test sentences; paragraphs: SQuAD v1.1 dev contexts. */
    @Param({"stsb", "paragraphs"})
    public String corpus;

    /** Truncation length including [CLS] and [SEP]; 0 for none. */
    @Param({"0", "256"})
    public int maxLength;

    private List<String> texts;
    private WordPieceTokenizer jembed;
    private HuggingFaceTokenizer rust;

    /** Tokens produced, [CLS] and [SEP] included; JMH reports the rate. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Tokens {
        public long tokens;

        @Setup(Level.Iteration)
        public void reset() {
            tokens = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path data = sharedData();
        texts = corpus.equals("stsb") ? stsbSentences(data.resolve("stsb/sts-test.jsonl"))
                : SquadParagraphs.first(data.resolve("squad-v1.1-dev/paragraphs.jsonl"), PARAGRAPHS);
        byte[] json = tokenizerJson();
        jembed = WordPieceTokenizer.fromTokenizerJson(new java.io.ByteArrayInputStream(json), TOKENIZER_ENTRY);
        Path file = Files.createTempFile("tokenizer-", ".json");
        try {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode root = (ObjectNode) mapper.readTree(json);
            root.putNull("truncation");
            root.putNull("padding");
            mapper.writeValue(file.toFile(), root);
            HuggingFaceTokenizer.Builder builder = HuggingFaceTokenizer.builder().optTokenizerPath(file)
                    .optPadding(false).optAddSpecialTokens(true);
            rust = (maxLength > 0 ? builder.optTruncation(true).optMaxLength(maxLength) : builder.optTruncation(false))
                    .build();
        } finally {
            Files.deleteIfExists(file);
        }
        long jembedTokens = 0;
        long rustTokens = 0;
        for (String text : texts) {
            jembedTokens += encode(text).length();
            rustTokens += rust.encode(text).getIds().length;
        }
        if (jembedTokens != rustTokens) {
            throw new IllegalStateException("token count: expected jembed and DJL to agree, found " + jembedTokens
                    + " and " + rustTokens + " on " + corpus);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        rust.close();
    }

    @Benchmark
    public void jembed(Tokens counter, Blackhole blackhole) {
        long tokens = 0;
        for (String text : texts) {
            Encoding encoding = encode(text);
            tokens += encoding.length();
            blackhole.consume(encoding);
        }
        counter.tokens += tokens;
    }

    @Benchmark
    public void djlRust(Tokens counter, Blackhole blackhole) {
        long tokens = 0;
        for (String text : texts) {
            ai.djl.huggingface.tokenizers.Encoding encoding = rust.encode(text);
            tokens += encoding.getIds().length;
            blackhole.consume(encoding);
        }
        counter.tokens += tokens;
    }

    private Encoding encode(String text) {
        return maxLength > 0 ? jembed.encode(text, maxLength) : jembed.encode(text);
    }

    private static Path sharedData() {
        String configured = System.getProperty("jembed.sharedData");
        Path data = configured != null ? Path.of(configured) : Path.of("..", "shared", "data");
        if (!Files.isDirectory(data)) {
            throw new IllegalStateException("shared data: expected a directory at " + data.toAbsolutePath()
                    + ", found none; run from the repository root or pass -jvmArgsAppend -Djembed.sharedData=DIR");
        }
        return data;
    }

    private static List<String> stsbSentences(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        List<String> sentences = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            JsonNode row = mapper.readTree(line);
            sentences.add(row.get("sentence1").asText());
            sentences.add(row.get("sentence2").asText());
        }
        return sentences;
    }

    private static byte[] tokenizerJson() {
        try (ZipFile zip = new ZipFile(MODEL_JAR.toFile())) {
            ZipEntry entry = zip.getEntry(TOKENIZER_ENTRY);
            if (entry == null) {
                throw new IllegalStateException("jar entry " + TOKENIZER_ENTRY + ": expected in " + MODEL_JAR + ", found none");
            }
            try (InputStream in = zip.getInputStream(entry)) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("model jar " + MODEL_JAR + ": unreadable (run './jembed model setup')", e);
        }
    }
}
