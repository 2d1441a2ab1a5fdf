package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Java example compiles as printed (imports and {@code throws} included) against the
 * product's classes and prints the output the README shows beside it.
 */
class ReadmeExampleTest {

    static final Pattern EXAMPLE = Pattern.compile(
            "<!-- example: Example\\.java -->\\s*```java\\n(.*?)```.*?<!-- output -->\\s*```text\\n(.*?)```", Pattern.DOTALL);

    @Test
    void javaExampleCompilesAndPrintsWhatTheReadmeShows(@TempDir Path dir) throws Exception {
        Requirements.catalogueModel("e5-small-v2");
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher matcher = EXAMPLE.matcher(readme);
        assertTrue(matcher.find(), "README.md: expected an example block marked <!-- example: Example.java --> "
                + "followed by its <!-- output --> block");
        assertEquals(matcher.group(2), compileAndRun(dir, "Example", matcher.group(1)), "README example output");
    }

    /** Compiles a README class against the test class path and runs its main, returning what it printed. */
    private String compileAndRun(Path dir, String name, String code, String... args) throws Exception {
        Path source = Files.writeString(dir.resolve(name + ".java"), code);
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        boolean compiled = compiler.getTask(diagnostics, null, null,
                List.of("-d", dir.toString(), "-cp", System.getProperty("java.class.path")), null,
                compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(source)).call();
        assertTrue(compiled, "README " + name + " does not compile:\n" + diagnostics);
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            loader.loadClass(name).getMethod("main", String[].class).invoke(null, (Object) args);
        } finally {
            System.setOut(saved);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static final Pattern HNSW_EXAMPLE = Pattern.compile("<!-- example: HnswExample\\.java -->\\s*```java\\n(.*?)```"
            + ".*?<!-- output: HnswExample -->\\s*```text\\n(.*?)```", Pattern.DOTALL);

    /** The hnsw example: the type found on the class path (jembed-lucene, as in the runnable jar), a filter. */
    @Test
    void hnswExampleCompilesAndPrintsWhatTheReadmeShows(@TempDir Path dir) throws Exception {
        Requirements.defaultModel();
        Matcher matcher = HNSW_EXAMPLE.matcher(Files.readString(Path.of("..", "README.md")));
        assertTrue(matcher.find(), "README.md: expected a block marked <!-- example: HnswExample.java --> "
                + "followed by its <!-- output: HnswExample --> block");
        assertEquals(matcher.group(2), compileAndRun(dir, "HnswExample", matcher.group(1),
                dir.resolve("index").toString()), "README hnsw example output");
        assertTrue(Files.isDirectory(dir.resolve("index").resolve("index.1")), "the graph was written");
    }

    static final Pattern CLIENT_EXAMPLE = Pattern.compile(
            "<!-- example: ServerClientExample\\.java -->\\s*```java\\n(.*?)```", Pattern.DOTALL);

    /** The server section's HttpClient example, run against a server on an ephemeral port. */
    @Test
    void serverClientExampleCompilesAndGetsVectors(@TempDir Path dir) throws Exception {
        Path model = Requirements.defaultModel();
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher matcher = CLIENT_EXAMPLE.matcher(readme);
        assertTrue(matcher.find(), "README.md: expected a block marked <!-- example: ServerClientExample.java -->");
        Path source = Files.writeString(dir.resolve("ServerClientExample.java"), matcher.group(1));
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        boolean compiled = compiler.getTask(diagnostics, null, null, List.of("-d", dir.toString()), null,
                compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(source)).call();
        assertTrue(compiled, "README client example does not compile:\n" + diagnostics);
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        float first;
        try (io.jembed.core.Embedder embedder = io.jembed.core.Embedder.load(model);
             io.jembed.core.server.EmbeddingServer server = io.jembed.core.server.EmbeddingServer.start(embedder, null,
                     io.jembed.core.server.ServerOptions.builder().port(0).build());
             URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            first = embedder.embed("I took my dog for a walk")[0];
            String base = server.uri().toString().replaceAll("/$", "");
            loader.loadClass("ServerClientExample").getMethod("main", String[].class).invoke(null, (Object) new String[] {base});
        } finally {
            System.setOut(saved);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertTrue(printed.startsWith("200 [[" + first + ","), printed);
    }

    @Test
    void readmeStartsWithTheTwoCommands() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        int fence = readme.indexOf("```sh\n");
        assertTrue(fence > 0, "README.md: expected a sh block");
        String block = readme.substring(fence + 6, readme.indexOf("```", fence + 6));
        assertTrue(block.startsWith("./jembed demo"), block);
        assertTrue(block.lines().toList().get(1).startsWith("./jembed test"), block);
    }
}
