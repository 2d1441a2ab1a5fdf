package io.jembed.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.UnexpectedAlertBehaviour;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.Color;
import org.openqa.selenium.support.ui.WebDriverWait;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.core.EmbedRequest;
import io.jembed.core.Embedder;
import io.jembed.core.index.Document;
import io.jembed.core.index.IndexStore;
import io.jembed.core.index.Manifest;
import io.jembed.core.search.SemanticSearch;
import io.jembed.core.server.EmbeddingServer;
import io.jembed.core.server.ServerOptions;

/**
 * The search page served at {@code GET /}, in a real browser: Debian's headless chromium driven
 * through its chromedriver, against a server holding the demo corpus on the default model. The
 * page's answers are checked against {@link SemanticSearch} called directly.
 */
class SearchPageBrowserTest {

    static final File CHROMIUM = new File("/usr/bin/chromium");
    static final File CHROMEDRIVER = new File("/usr/bin/chromedriver");
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String XSS = "<script>alert(1)</script> <b>bold</b> <img src=x onerror=alert(2)>";
    static final String CHUNK = "the quick brown fox jumps over the lazy dog";
    /** Long enough (~150 tokens) to be cut into windows of CHUNK_TOKENS, which every demo passage fits whole. */
    static final String CHUNKED = "Notes from the harbour office, spring term. The ferry timetable changes on the first "
            + "Monday of April, when the early boat leaves at six instead of seven and the last one returns at ten. "
            + "Parking permits for the quay are renewed at the front desk; bring the old permit and a utility bill. "
            + "Typing practice: " + CHUNK + ", using every letter. "
            + "The café on the pier closes for repairs in May, and the fish market moves to the car park behind the "
            + "church until the roof is fixed. Volunteers for the summer regatta should sign up before the end of "
            + "the month, and boat owners must register their moorings again this year.";
    static final int CHUNK_TOKENS = 64;
    static final String SKY = "why is the sky blue";
    static final String PLANTS = "How do plants make food from sunlight";
    static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    /**
     * Selenium warns that it has no CDP bindings for this chromium; none are needed (the test uses
     * WebDriver, and chromedriver's own CDP pass-through), so selenium-devtools-vNNN is not a dependency.
     * Held in a field: java.util.logging keeps loggers weakly.
     */
    static final Logger CDP_LOG = Logger.getLogger("org.openqa.selenium.devtools.CdpVersionFinder");

    static Embedder embedder;
    static SemanticSearch search;
    static EmbeddingServer server;
    static Path profile;
    static ChromeDriver driver;

    @BeforeAll
    static void start() throws IOException {
        if (!CHROMIUM.canExecute() || !CHROMEDRIVER.canExecute()) {
            Requirements.missing("chromium and chromium-driver", "apt-get install chromium chromium-driver (.ci/run installs them)");
        }
        embedder = Embedder.load(Requirements.defaultModel());
        search = SemanticSearch.create(embedder);
        List<Document> corpus = demoCorpus();
        corpus.add(Document.of("xss", XSS));
        corpus.add(Document.of("chunked", CHUNKED));
        // In windows, so hits carry the span of their best window; the page marks it in the passage.
        search.index(corpus, EmbedRequest.of(List.of()), IndexStore.Duplicates.REFUSE,
                new Manifest.Chunking(CHUNK_TOKENS, CHUNK_TOKENS / 2));
        server = EmbeddingServer.start(embedder, search, ServerOptions.builder().port(0).build());
        driver = chromium();
    }

    /** The system's chromium and chromedriver, named outright so Selenium Manager never looks for (or downloads) either. */
    static ChromeDriver chromium() throws IOException {
        CDP_LOG.setLevel(Level.SEVERE);
        System.setProperty("SE_AVOID_STATS", "true"); // Selenium hands SE_* properties to Selenium Manager, were it ever run
        System.setProperty("webdriver.remote.enableTracing", "false"); // no OpenTelemetry spans for WebDriver calls
        profile = Files.createTempDirectory("jembed-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile, "--window-size=1280,1000");
        // An alert the page must never raise stays open for the XSS check to see, instead of being dismissed.
        options.setUnhandledPromptBehaviour(UnexpectedAlertBehaviour.IGNORE);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER)
                .usingAnyFreePort()
                .withLogFile(buildDir().resolve("chromedriver.log").toFile())
                .build();
        ChromeDriver chrome = new ChromeDriver(service, options);
        chrome.manage().timeouts().pageLoadTimeout(WAIT).scriptTimeout(WAIT);
        return chrome;
    }

    @AfterAll
    static void stop() throws IOException {
        try {
            if (driver != null) {
                driver.quit();
            }
        } finally {
            try {
                if (server != null) {
                    server.close();
                }
            } finally {
                try {
                    if (search != null) {
                        search.close();
                    }
                } finally {
                    if (embedder != null) {
                        embedder.close();
                    }
                    deleteProfile();
                }
            }
        }
    }

    /** An alert left open by a failing test would fail every later one; each test starts without. */
    @AfterEach
    void dismissAnyAlert() {
        try {
            driver.switchTo().alert().dismiss();
        } catch (NoAlertPresentException none) {
            // the normal case
        }
    }

    @Test
    void enterInTheQueryBoxSearchesAndShowsTheHits() throws IOException {
        driver.get(server.uri().toString());
        WebElement box = driver.findElement(By.id("q"));
        assertEquals(box, driver.switchTo().activeElement(), "the query box has focus on load (autofocus)");
        box.sendKeys(SKY, Keys.ENTER);

        List<WebElement> hits = awaitHits();
        assertEquals(10, hits.size(), "the default k");
        WebElement first = hits.get(0);
        assertEquals("science-01", idOf(first));
        assertTrue(textOf(first).contains("The sky looks blue"), textOf(first));
        assertEquals("#1", first.findElement(By.className("rank")).getText());
        assertTrue(first.findElement(By.className("fields")).getText().contains("topic: science"));
        String score = first.findElement(By.className("score")).getText();
        assertTrue(score.matches("0\\.\\d{4}"), score);
        double expected = search.search(SKY, 1).get(0).score();
        assertEquals(expected, Double.parseDouble(score), 0.0001, "the page shows the score SemanticSearch gives");
        assertTrue(driver.getCurrentUrl().endsWith("/?q=why+is+the+sky+blue"), "replaceState shares the search: "
                + driver.getCurrentUrl());
        WebElement info = driver.findElement(By.id("info"));
        new WebDriverWait(driver, WAIT).until(d -> info.getText().contains("documents"));
        assertTrue(info.getText().contains(embedder.modelName()) && info.getText().contains("242 documents"), info.getText());

        Path png = buildDir().resolve("search-page.png");
        Files.write(png, driver.getScreenshotAs(OutputType.BYTES));
        byte[] written = Files.readAllBytes(png);
        assertArrayEquals(PNG, Arrays.copyOf(written, PNG.length), "a PNG signature");
        assertTrue(written.length > 10_000, "a screenshot of a rendered page, not a blank one: " + written.length + " bytes");

        // The same page under prefers-color-scheme: dark (chromedriver's CDP pass-through, no devtools jar needed).
        driver.executeCdpCommand("Emulation.setEmulatedMedia",
                Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", "dark"))));
        try {
            assertEquals("#16181b", Color.fromString(driver.findElement(By.tagName("body")).getCssValue("background-color")).asHex());
            Files.write(buildDir().resolve("search-page-dark.png"), driver.getScreenshotAs(OutputType.BYTES));
        } finally {
            driver.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features", List.of()));
        }
    }

    @Test
    void aQueryInTheAddressRunsOnLoad() {
        String expected = search.search(PLANTS, 1).get(0).id().asText();
        driver.get(server.uri() + "?q=" + URLEncoder.encode(PLANTS, StandardCharsets.UTF_8) + "&k=3");
        List<WebElement> hits = awaitHits();
        assertEquals(PLANTS, driver.findElement(By.id("q")).getDomProperty("value"));
        assertEquals("3", driver.findElement(By.id("k")).getDomProperty("value"));
        assertEquals(3, hits.size());
        assertEquals(expected, idOf(hits.get(0)));
    }

    @Test
    void documentTextIsShownAsTextNeverAsMarkup() {
        driver.get(server.uri().toString());
        driver.findElement(By.id("q")).sendKeys(XSS, Keys.ENTER);
        List<WebElement> hits = awaitHits();
        WebElement xss = hits.stream().filter(hit -> idOf(hit).equals("xss")).findFirst()
                .orElseThrow(() -> new AssertionError("no hit with id xss among " + hits.stream().map(SearchPageBrowserTest::idOf).toList()));
        assertEquals(XSS, textOf(xss));
        assertTrue(xss.getText().contains("<script>alert(1)</script>"), xss.getText());
        assertEquals(List.of(), driver.findElements(By.cssSelector("#results script, #results img, #results b")));
        assertThrows(NoAlertPresentException.class, () -> driver.switchTo().alert());
    }

    @Test
    void aChunksRangeIsMarkedAndOtherHitsHaveNoMark() {
        driver.get(server.uri() + "?q=" + URLEncoder.encode("a sentence that uses every letter", StandardCharsets.UTF_8));
        List<WebElement> hits = awaitHits();
        WebElement chunked = hits.stream().filter(hit -> idOf(hit).equals("chunked")).findFirst()
                .orElseThrow(() -> new AssertionError("no hit with id chunked among " + hits.stream().map(SearchPageBrowserTest::idOf).toList()));
        List<WebElement> marks = driver.findElements(By.cssSelector("#results mark"));
        assertEquals(1, marks.size(), "only the chunked hit has a mark (the others are one window, the whole passage)");
        SemanticSearch.Hit direct = search.search("a sentence that uses every letter", 10).stream()
                .filter(hit -> hit.id().asText().equals("chunked")).findFirst().orElseThrow();
        assertTrue(direct.chunk().text().contains(CHUNK), direct.chunk().text());
        assertTrue(direct.chunk().end() - direct.chunk().start() < CHUNKED.length(), "a window, not the whole passage");
        assertEquals(direct.chunk().text().strip(), chunked.findElement(By.tagName("mark")).getText());
        assertEquals(CHUNKED, textOf(chunked), "the mark wraps the text in place, nothing lost or added");
        assertEquals(List.of(), chunked.findElements(By.className("fields")), "a document without fields lists none");
    }

    @Test
    void theKeyboardReachesTheResultsAndTheQueryBox() {
        driver.get(server.uri() + "?q=" + URLEncoder.encode(SKY, StandardCharsets.UTF_8));
        List<WebElement> hits = awaitHits();
        WebElement box = driver.findElement(By.id("q"));
        assertEquals(box, driver.switchTo().activeElement());

        // Query box, k, Search button, then the results in rank order.
        for (int presses = 0; presses < 5 && !hasClass(driver.switchTo().activeElement(), "hit"); presses++) {
            new Actions(driver).sendKeys(Keys.TAB).perform();
        }
        WebElement focused = driver.switchTo().activeElement();
        assertEquals(hits.get(0), focused, "Tab reaches the first result");
        assertEquals("solid", focused.getCssValue("outline-style"), "a visible focus outline");
        assertEquals("3px", focused.getCssValue("outline-width"));
        new Actions(driver).sendKeys(Keys.TAB).perform();
        assertEquals(hits.get(1), driver.switchTo().activeElement(), "Tab walks on to the second");

        new Actions(driver).sendKeys("/").perform();
        assertEquals(box, driver.switchTo().activeElement(), "/ focuses the query box");
        assertEquals(SKY, box.getDomProperty("value"), "the / is not typed into it");
        new Actions(driver).sendKeys(Keys.ESCAPE).perform();
        assertEquals("", box.getDomProperty("value"), "Escape clears it");

        String expected = search.search(PLANTS, 1).get(0).id().asText();
        new Actions(driver).sendKeys(PLANTS, Keys.ENTER).perform();
        new WebDriverWait(driver, WAIT).until(d -> {
            List<WebElement> now = awaitHits();
            return !now.isEmpty() && idOf(now.get(0)).equals(expected);
        });
    }

    @Test
    void aServerWithAnApiKeyAsksForItAndTheKeyIsSent() throws IOException {
        try (EmbeddingServer locked = EmbeddingServer.start(embedder, search,
                ServerOptions.builder().port(0).apiKey("s3cret").build())) {
            driver.get(locked.uri() + "?q=" + URLEncoder.encode(SKY, StandardCharsets.UTF_8));
            String status = awaitStatus();
            assertTrue(status.contains("API key"), status);
            WebElement key = driver.findElement(By.id("key"));
            assertTrue(key.isDisplayed(), "the key field appears after a 401");
            assertEquals("password", key.getDomAttribute("type"));
            key.sendKeys("s3cret", Keys.ENTER);
            new WebDriverWait(driver, WAIT).until(d -> !awaitHits().isEmpty());
            assertEquals("science-01", idOf(awaitHits().get(0)));
            assertEquals("s3cret", driver.executeScript("return sessionStorage.getItem('jembed.apiKey')"));
        }
    }

    @Test
    void aServerWithoutAnIndexSaysSo() throws IOException {
        try (EmbeddingServer bare = EmbeddingServer.start(embedder, null, ServerOptions.builder().port(0).build())) {
            driver.get(bare.uri() + "?q=anything");
            String status = awaitStatus();
            assertTrue(status.contains("no index") && status.contains("--index"), status);
            WebElement info = driver.findElement(By.id("info"));
            new WebDriverWait(driver, WAIT).until(d -> info.getText().contains("no index"));
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    /** The status line once the search in flight has settled (the page sets aria-busy=false on #results). */
    static String awaitStatus() {
        new WebDriverWait(driver, WAIT).until(d -> "false".equals(d.findElement(By.id("results")).getDomAttribute("aria-busy")));
        return driver.findElement(By.id("status")).getText();
    }

    /** The hits once the search in flight has settled, which it must have done without an error. */
    static List<WebElement> awaitHits() {
        String status = awaitStatus();
        assertTrue(status.matches("\\d+ results? in \\d+ ms"), "status line: " + status);
        return driver.findElements(By.cssSelector("#results > li.hit"));
    }

    static String idOf(WebElement hit) {
        return hit.findElement(By.className("id")).getText();
    }

    static String textOf(WebElement hit) {
        return hit.findElement(By.className("text")).getText();
    }

    static boolean hasClass(WebElement element, String name) {
        String classes = element.getDomAttribute("class");
        return classes != null && List.of(classes.split("\\s+")).contains(name);
    }

    static List<Document> demoCorpus() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Document> documents = new ArrayList<>();
        try (InputStream in = SearchPageBrowserTest.class.getResourceAsStream("/io/jembed/demo/corpus.jsonl");
             BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                if (!line.isBlank()) {
                    documents.add(Document.fromJson(json.readTree(line)));
                }
            }
        }
        return documents;
    }

    static Path buildDir() throws IOException {
        return Files.createDirectories(Path.of(System.getProperty("project.build.directory", "target")));
    }

    static void deleteProfile() throws IOException {
        if (profile == null || !Files.exists(profile)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(profile)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
