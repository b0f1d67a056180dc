package io.semspai.cli;

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
    })
final class ImportCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--spai", paramLabel = "FILE",
      description = "SPAI checkpoint, e.g. spai.pth (its weights under 'model'), or a state dict / safetensors"
          + " under the same keys.")
  Path spai;

  @Option(names = "--convnext", paramLabel = "FILE",
      description = "OpenCLIP convnext_xxlarge checkpoint (open_clip_pytorch_model.bin or .safetensors). Needs the"
          + " semantic branch, not in this build yet.")
  Path convnext;

  @Option(names = "--head", paramLabel = "FILE",
      description = "Sem-SPAI fusion head checkpoint. Needs the semantic branch, not in this build yet.")
  Path head;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Override a size that shapes do not show (or any other), e.g. --set vit.num_heads=12."
          + " Repeatable. SPAI keys: vit.img_size, vit.patch_size, vit.embed_dim, vit.depth, vit.num_heads"
          + " (vit.heads), vit.mlp_ratio, vit.layer_norm_eps, fre.projection_dim, fre.intermediate_layers,"
          + " fre.masking_radius, sca.attn_embed_dim, sca.num_heads, head.mlp_ratio, patch.stride,"
          + " patch.minimum_patches.")
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
    refuseWithoutSemanticBranch("--convnext", convnext);
    refuseWithoutSemanticBranch("--head", head);
    if (spai == null) {
      throw new UserError("nothing to import: give --spai FILE");
    }
    PrintWriter o = spec.commandLine().getOut();
    String bundleName = name != null ? name : stem(spai);
    long t0 = System.nanoTime();
    ModelImporter.Result r;
    try {
      r = ModelImporter.run(List.of(new ModelImporter.Input(new SpaiImporter(), spai)), settings, out, bundleName,
          version, line -> {
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
    o.printf("wrote %s: %s %s in %.1f s%n", r.bundle(), bundleName, version, seconds);
    o.flush();
    return 0;
  }

  /**
   * The ConvNeXt trunk and the fusion head have no Java model yet, so there is nothing to check their weights
   * against; refusing beats writing a bundle that only looks complete.
   */
  private static void refuseWithoutSemanticBranch(String option, Path file) {
    if (file != null) {
      throw new UserError(option + " needs the semantic branch (the ConvNeXt-XXL trunk and the fusion head), which"
          + " this build does not have yet; nothing was written. Import SPAI alone with --spai for now.");
    }
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
