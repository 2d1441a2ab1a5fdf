package io.jembed.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
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

/** The README's Spark example compiles as printed against this module and Spark, and prints what it shows. */
class SparkReadmeExampleTest {

    static final Pattern EXAMPLE = Pattern.compile(
            "<!-- example: SparkExample\\.java -->\\s*```java\\n(.*?)```.*?<!-- output -->\\s*```text\\n(.*?)```",
            Pattern.DOTALL);

    @Test
    void sparkExampleCompilesAndPrintsWhatTheReadmeShows(@TempDir Path dir) throws Exception {
        Needs.catalogueModel("all-MiniLM-L6-v2");
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher matcher = EXAMPLE.matcher(readme);
        assertTrue(matcher.find(), "README.md: expected a block marked <!-- example: SparkExample.java --> followed by "
                + "its <!-- output --> block");
        Path source = Files.writeString(dir.resolve("SparkExample.java"), matcher.group(1));
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        boolean compiled = compiler.getTask(diagnostics, null, null,
                List.of("-d", dir.toString(), "-cp", System.getProperty("java.class.path")), null,
                compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(source)).call();
        assertTrue(compiled, "README SparkExample does not compile:\n" + diagnostics);
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            loader.loadClass("SparkExample").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(saved);
        }
        assertEquals(matcher.group(2), out.toString(StandardCharsets.UTF_8), "README Spark example output");
    }
}
