package io.jembed.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Deterministic English-looking sentences for throughput runs: the same seed gives the same texts on
 * every JVM (java.util.Random's sequence is fixed by its specification).
 *
 * <p>A sentence is one or more clauses joined by conjunctions; a clause is a noun phrase, a verb phrase
 * and up to two prepositional phrases. Lengths run from {@value #MIN_WORDS} to {@value #MAX_WORDS} words,
 * skewed towards the 10-30 words of ordinary prose (median about 20) so the token-length mix resembles real corpora.
 */
public final class SentenceGenerator {

    public static final int MIN_WORDS = 5;
    public static final int MAX_WORDS = 60;
    public static final int DEFAULT_COUNT = 1000;
    public static final long DEFAULT_SEED = 42;

    private static final String[] DETERMINERS = {
        "the", "a", "this", "that", "my", "our", "their", "every", "one", "another",
    };
    private static final String[] ADJECTIVES = {
        "old", "small", "quiet", "bright", "heavy", "careful", "local", "wooden", "narrow", "busy", "patient",
        "strange", "famous", "tired", "new", "broken", "green", "distant", "friendly", "hidden", "simple",
        "curious", "modern", "ancient", "noisy", "gentle", "empty", "crowded", "cheap", "expensive",
    };
    private static final String[] NOUNS = {
        "teacher", "river", "village", "engineer", "garden", "bicycle", "library", "farmer", "kitchen", "train",
        "neighbour", "museum", "doctor", "market", "window", "student", "bridge", "company", "painter", "island",
        "road", "baker", "letter", "computer", "forest", "musician", "harbour", "report", "child", "mountain",
        "committee", "storm", "recipe", "hospital", "camera", "festival", "customer", "winter", "server", "map",
        "orchestra", "nurse", "lake", "factory", "journalist", "garage", "question", "team", "lamp", "castle",
    };
    /** Transitive verbs as {past, base} pairs, so questions can use "did ... base". */
    private static final String[][] TRANSITIVE = {
        {"visited", "visit"}, {"repaired", "repair"}, {"painted", "paint"}, {"described", "describe"},
        {"found", "find"}, {"followed", "follow"}, {"watched", "watch"}, {"cleaned", "clean"},
        {"moved", "move"}, {"opened", "open"}, {"sold", "sell"}, {"photographed", "photograph"},
        {"borrowed", "borrow"}, {"measured", "measure"}, {"ignored", "ignore"}, {"protected", "protect"},
        {"studied", "study"}, {"carried", "carry"}, {"built", "build"}, {"explained", "explain"},
        {"noticed", "notice"}, {"replaced", "replace"}, {"welcomed", "welcome"}, {"checked", "check"},
    };
    private static final String[] INTRANSITIVE = {
        "waited", "laughed", "arrived", "slept", "disappeared", "smiled", "worked", "travelled", "listened",
        "stopped", "hesitated", "returned", "improved", "collapsed", "sang",
    };
    private static final String[] PREPOSITIONS = {
        "near", "behind", "after", "before", "inside", "across", "under", "beside", "during", "without",
        "towards", "beyond", "around", "through",
    };
    private static final String[] ADVERBS = {
        "quietly", "quickly", "again", "yesterday", "carefully", "today", "slowly", "suddenly", "twice",
        "recently", "almost immediately", "every morning", "last week", "without a word",
    };
    private static final String[] CONJUNCTIONS = {
        ", and", ", but", " because", " while", ", so", " although", " when", " after", " until",
    };

    private final Random random;

    public SentenceGenerator(long seed) {
        this.random = new Random(seed);
    }

    /** {@code count} sentences from {@code seed}; equal arguments give equal lists. */
    public static List<String> generate(int count, long seed) {
        if (count < 0) {
            throw new IllegalArgumentException("sentence count: expected >= 0, found " + count);
        }
        var generator = new SentenceGenerator(seed);
        var sentences = new ArrayList<String>(count);
        for (int i = 0; i < count; i++) {
            sentences.add(generator.next());
        }
        return sentences;
    }

    /** The next sentence, of between MIN_WORDS and MAX_WORDS words. */
    public String next() {
        int targetWords = targetWords();
        boolean question = random.nextInt(12) == 0;
        var words = new ArrayList<String>();
        if (question) {
            question(words);
        } else {
            clause(words);
        }
        while (words.size() < targetWords) {
            var clause = new ArrayList<String>();
            clause(clause);
            // Stop at the clause that would overshoot the target by more than a few words.
            if (words.size() + 1 + clause.size() > Math.min(MAX_WORDS, targetWords + 4)) {
                break;
            }
            String conjunction = pick(CONJUNCTIONS);
            int last = words.size() - 1;
            words.set(last, words.get(last) + (conjunction.startsWith(",") ? "," : ""));
            words.add(conjunction.substring(conjunction.indexOf(' ') + 1));
            words.addAll(clause);
        }
        while (words.size() < MIN_WORDS) {
            addPhrase(words, pick(ADVERBS));
        }
        String sentence = String.join(" ", words);
        return Character.toUpperCase(sentence.charAt(0)) + sentence.substring(1) + (question ? "?" : ".");
    }

    /** Target 5 + 55·u^1.8 words: sentences come out with a median near 20 words and a tail up to 60. */
    private int targetWords() {
        double u = random.nextDouble();
        return MIN_WORDS + (int) Math.round((MAX_WORDS - MIN_WORDS) * Math.pow(u, 1.8));
    }

    private void clause(List<String> words) {
        nounPhrase(words);
        if (random.nextInt(3) == 0) {
            words.add(pick(INTRANSITIVE));
        } else {
            words.add(pick(TRANSITIVE)[0]);
            nounPhrase(words);
        }
        prepositionalPhrases(words);
    }

    private void question(List<String> words) {
        addPhrase(words, random.nextBoolean() ? "why did" : "when did");
        nounPhrase(words);
        words.add(pick(TRANSITIVE)[1]);
        nounPhrase(words);
        prepositionalPhrases(words);
    }

    private void prepositionalPhrases(List<String> words) {
        int phrases = random.nextInt(3);
        for (int i = 0; i < phrases; i++) {
            words.add(pick(PREPOSITIONS));
            nounPhrase(words);
        }
        if (random.nextInt(4) == 0) {
            addPhrase(words, pick(ADVERBS));
        }
    }

    private void nounPhrase(List<String> words) {
        String determiner = pick(DETERMINERS);
        String adjective = random.nextInt(2) == 0 ? pick(ADJECTIVES) : null;
        String noun = pick(NOUNS);
        String next = adjective != null ? adjective : noun;
        if (determiner.equals("a") && "aeiou".indexOf(next.charAt(0)) >= 0) {
            determiner = "an";
        }
        words.add(determiner);
        if (adjective != null) {
            words.add(adjective);
        }
        words.add(noun);
    }

    /** Adds a possibly multi-word phrase one word per element, so words.size() counts words. */
    private static void addPhrase(List<String> words, String phrase) {
        words.addAll(List.of(phrase.split(" ")));
    }

    private String pick(String[] options) {
        return options[random.nextInt(options.length)];
    }

    private String[] pick(String[][] options) {
        return options[random.nextInt(options.length)];
    }
}
