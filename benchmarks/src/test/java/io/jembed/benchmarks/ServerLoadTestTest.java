package io.jembed.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ServerLoadTestTest {

    private static String check(String body, int dimension) {
        return ServerLoadTest.checkBody(body.getBytes(StandardCharsets.UTF_8), dimension);
    }

    @Test
    void acceptsExactlyOneVectorOfTheDimension() {
        assertNull(check("[[0.5,-1.25e-3,0]]", 3));
        assertNull(check(" [ [1.0, 2.0] ] \n", 2));
    }

    @Test
    void rejectsEveryOtherShape() {
        assertNotNull(check("[[0.5,1.0]]", 3), "too short");
        assertNotNull(check("[[0.5,1.0,2.0,3.0]]", 3), "too long");
        assertNotNull(check("[[1,2,3],[1,2,3]]", 3), "two vectors");
        assertNotNull(check("[]", 3), "no vector");
        assertNotNull(check("[1,2,3]", 3), "flat");
        assertNotNull(check("{\"error\":\"x\"}", 3), "object");
        assertNotNull(check("[[1,\"2\",3]]", 3), "string element");
        assertNotNull(check("[[1,null,3]]", 3), "null element");
        assertNotNull(check("[[1,2,1e39]]", 3), "overflows a float");
        assertNotNull(check("[[1,2,3]] [[1,2,3]]", 3), "trailing value");
        assertNotNull(check("[[1,2,3]", 3), "truncated");
        assertNotNull(check("", 3), "empty");
    }

    @Test
    void acceptsLoopbackUrlsOnly() {
        assertEquals("http://127.0.0.1:8080", ServerLoadTest.loopbackBase("http://127.0.0.1:8080/").toString());
        assertEquals("http://localhost:9", ServerLoadTest.loopbackBase("http://LOCALHOST:9").toString());
        assertEquals("http://[::1]:9", ServerLoadTest.loopbackBase("http://[::1]:9").toString());
        for (String url : new String[] {"http://10.0.0.1:80", "http://example.com:80", "https://127.0.0.1:1",
                "http://127.0.0.2:1", "http://0.0.0.0:1", "127.0.0.1:8080", "http://user@127.0.0.1:1",
                "http://127.0.0.1.nip.io:1"}) {
            assertThrows(IllegalArgumentException.class, () -> ServerLoadTest.loopbackBase(url), url);
        }
    }
}
