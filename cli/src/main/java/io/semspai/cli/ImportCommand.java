package io.semspai.cli;

import io.semspai.importer.ConvNextImporter;
import io.semspai.importer.HeadImporter;
import io.semspai.importer.ImportException;
import io.semspai.importer.ModelImporter;
import io.semspai.importer.SpaiImporter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code semspai model import}: upstream checkpoints → a bundle, in Java, streaming one tensor at a time. */
@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    description = {
      "Build a bundle from the published checkpoints, without Python: torch.save files (.pth, .bin; a training"
          + " checkpoint or a bare state dict) or safetensors with the same keys; fp32, fp16 or bf16, stored as"
          + " float32. Sizes are read from the tensors' shapes; what shapes do not show comes from the upstream"
          + " preset unless --set. Nothing is written unless every key and shape fits.",
      "--spai alone: a spectral bundle. --spai with --convnext: a Sem-SPAI (fusion) bundle, with the --head given"
          + " or, without one, an untrained random head that must be trained (train-head, or the trainer). One"
          + " Sem-SPAI checkpoint may be given to all three options.",
    })
final class ImportCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--spai", paramLabel = "FILE",
      description = "SPAI checkpoint, e.g. spai.pth (its weights under 'model'), or a state dict / safetensors"
          + " under the same keys.")
  Path spai;

  @Option(names = "--convnext", paramLabel = "FILE",
      description = "OpenCLIP convnext_xxlarge checkpoint (open_clip_pytorch_model.bin or .safetensors; its"
          + " visual.trunk.* is read, the rest of the CLIP model skipped), or a Sem-SPAI checkpoint"
          + " (semantic_backbone.*). Needs --spai.")
  Path convnext;

  @Option(names = "--head", paramLabel = "FILE",
      description = "Sem-SPAI checkpoint holding a trained fusion head (semantic_projection, fusion_layer,"
          + " classifier). Needs --spai and --convnext. Without it a fusion bundle gets an untrained random head.")
  Path head;

  @Option(names = "--head-seed", paramLabel = "N", defaultValue = "" + ModelImporter.DEFAULT_HEAD_SEED,
      description = "Seed of the random fusion head written when --convnext comes without --head"
          + " (default ${DEFAULT-VALUE}).")
  long headSeed;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Override a size that shapes do not show (or any other), e.g. --set vit.num_heads=12."
          + " Repeatable; a key may be prefixed with its component (spai., convnext., head.). SPAI keys:"
          + " vit.img_size, vit.patch_size, vit.embed_dim, vit.depth, vit.num_heads (vit.heads), vit.mlp_ratio,"
          + " vit.layer_norm_eps, fre.projection_dim, fre.intermediate_layers, fre.masking_radius, sca.attn_embed_dim,"
          + " sca.num_heads, head.mlp_ratio, patch.stride, patch.minimum_patches. ConvNeXt keys: depths, dims,"
          + " stem.kernel, stem.stride, dwconv.kernel, mlp_ratio, layer_norm_eps (eps), input_size. Head keys:"
          + " spectral_dim, semantic_dim, projection_dim, fusion_dim, layer_norm_eps.")
  List<String> settings = new ArrayList<>();

  @Option(names = "--out", required = true, paramLabel = "BUNDLE_DIR",
      description = "Bundle directory to create (must not exist, or be empty).")
  Path out;

  @Option(names = "--name", description = "Bundle name (default: the SPAI checkpoint's file name without extension).")
  String name;

  @Option(names = "--model-version", defaultValue = "0.1.0",
      description = "Semantic version (default ${DEFAULT-VALUE}).")
  String version;

  @Override
  public Integer call() throws IOException {
    List<ModelImporter.Input> inputs = new ArrayList<>();
    if (spai != null) {
      inputs.add(new ModelImporter.Input(new SpaiImporter(), spai));
    }
    if (convnext != null) {
      inputs.add(new ModelImporter.Input(new ConvNextImporter(), convnext));
    }
    if (head != null) {
      inputs.add(new ModelImporter.Input(new HeadImporter(), head));
    }
    if (inputs.isEmpty()) {
      throw new UserError("nothing to import: give --spai FILE (and --convnext FILE for a Sem-SPAI bundle)");
    }
    PrintWriter o = spec.commandLine().getOut();
    String bundleName = name != null ? name : stem(inputs.get(0).file());
    long t0 = System.nanoTime();
    ModelImporter.Result r;
    try {
      r = ModelImporter.run(inputs, settings, headSeed, out, bundleName, version, line -> {
        o.println(line);
        o.flush();
      });
    } catch (ImportException e) {
      throw new UserError(e.getMessage());
    } catch (IllegalArgumentException e) { // an invalid bundle name or version
      throw new UserError(e.getMessage());
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    for (ModelImporter.ComponentReport c : r.components()) {
      o.println(c.component() + ": " + c.summary());
      for (String d : c.decisions()) {
        o.println("  " + d);
      }
      if (!c.otherEntries().isEmpty()) {
        o.println("  not read (training state): " + String.join(", ", c.otherEntries()));
      }
      if (!c.ignoredKeys().isEmpty()) {
        o.println("  ignored, unused by the forward: " + c.ignoredKeys().size() + " tensors "
            + groups(c.ignoredKeys()));
      }
      o.println("  converted " + c.tensorsWritten() + " tensors " + c.sourceDtypes() + " to float32 (int64 kept)");
      o.printf("  %s (%.1f MB); from %s, sha256 %s%n", r.manifest().component(c.component()).file(), c.bytes() / 1e6,
          c.file().getFileName(), c.checkpointSha256());
    }
    ModelImporter.RandomHead h = r.randomHead();
    if (h != null) {
      o.println("head: " + h.summary());
      for (String d : h.decisions()) {
        o.println("  " + d);
      }
      o.printf("  %s (%.1f MB); Sem-SPAI's random init, seed %d: no --head was given%n",
          r.manifest().component("head").file(), h.bytes() / 1e6, h.seed());
      o.println("WARNING: the fusion head is UNTRAINED (random init): fused scores mean nothing until it is trained."
          + " Train it with `semspai train-head` or the trainer service; spectral mode (--mode spectral) is upstream"
          + " SPAI and usable now.");
    }
    if ("fusion".equals(r.mode())) {
      o.println("mode fusion; thresholds 0.5 / 0.5 placeholders: " + ModelImporter.THRESHOLDS_NOTE);
    }
    o.printf("wrote %s: %s %s in %.1f s%n", r.bundle(), bundleName, version, seconds);
    o.flush();
    return 0;
  }

  private static String stem(Path file) {
    String n = file.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }

  /** {@code [mfvit.vit.head.* (2), mfvit.vit.cls_blocks.* (12), …]}: keys grouped by their first three parts. */
  static String groups(List<String> keys) {
    Map<String, Integer> g = new LinkedHashMap<>();
    for (String k : keys) {
      String[] parts = k.split("\\.");
      String group = parts.length <= 3 ? k : String.join(".", parts[0], parts[1], parts[2]) + ".*";
      g.merge(group, 1, Integer::sum);
    }
    List<String> out = new ArrayList<>();
    g.forEach((k, n) -> out.add(n == 1 ? k : k + " (" + n + ")"));
    return out.toString();
  }
}
