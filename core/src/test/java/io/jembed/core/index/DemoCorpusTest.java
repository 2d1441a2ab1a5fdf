package io.jembed.core.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

/** The bundled demo corpus and questions are well-formed and cover many topics. */
class DemoCorpusTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static List<Document> read(String resource) throws IOException {
        List<Document> documents = new ArrayList<>();
        try (InputStream in = DemoCorpusTest.class.getResourceAsStream("/io/jembed/demo/" + resource)) {
            assertNotNull(in, resource + " is on the class path");
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                documents.add(Document.fromJson(JSON.readTree(line)));
            }
        }
        return documents;
    }

    @Test
    void corpusHasAtLeast220ShortPassagesOnManyTopicsWithUniqueIds() throws IOException {
        List<Document> corpus = read("corpus.jsonl");
        assertEquals(240, corpus.size());
        Map<String, Integer> topics = new HashMap<>();
        Map<String, Document> byId = new HashMap<>();
        for (Document document : corpus) {
            assertEquals(null, byId.put(document.idText(), document), "duplicate id " + document.idText());
            assertTrue(document.text().length() >= 40 && document.text().length() <= 260,
                    document.idText() + ": 1-3 sentences, found " + document.text().length() + " characters");
            topics.merge(document.fields().get("topic").asText(), 1, Integer::sum);
        }
        assertEquals(20, topics.size(), "topics " + topics.keySet());
    }

    @Test
    void everyQuestionNamesAPassageOfTheCorpus() throws IOException {
        Map<String, Document> byId = new HashMap<>();
        for (Document document : read("corpus.jsonl")) {
            byId.put(document.idText(), document);
        }
        List<Document> questions = read("questions.jsonl");
        assertEquals(10, questions.size());
        for (Document question : questions) {
            String answer = question.fields().get("answer").asText();
            assertTrue(byId.containsKey(answer), question.idText() + ": answer " + answer + " is in the corpus");
        }
    }
}
