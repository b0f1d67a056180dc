package io.semspai.cli;

import io.semspai.bundle.BundleArchive;
import io.semspai.bundle.BundleException;
import io.semspai.bundle.BundleManifest;
import io.semspai.bundle.ModelBundle;
import io.semspai.fusion.SemSpaiBundles;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code semspai model ...}: create, inspect, pack and unpack model bundles. */
@Command(
    name = "model",
    mixinStandardHelpOptions = true,
    description = "Create and inspect model bundles (a directory with manifest.json and safetensors weights).",
    subcommands = {
      ModelCommand.Init.class,
      ImportCommand.class,
      RollbackCommand.class,
      ModelCommand.Info.class,
      ModelCommand.Pack.class,
      ModelCommand.Unpack.class,
    })
public final class ModelCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "Missing command: choose init, import, info, pack or unpack.");
  }

  enum Preset {
    tiny,
    full
  }

  @Command(
      name = "init",
      mixinStandardHelpOptions = true,
      description = "Write a Sem-SPAI bundle (SPAI, ConvNeXt, fusion head) of seeded random weights whose scores "
          + "spread, with uncalibrated 0.5/0.5 thresholds (for tests and benchmarks; it detects nothing). The full "
          + "preset is ~3.9 GB.")
  static final class Init implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--preset", required = true, description = "Model size: ${COMPLETION-CANDIDATES}.")
    Preset preset;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, description = "Bundle directory to create (must not exist).")
    Path out;

    @Option(names = "--name", description = "Bundle name (default semspai-<preset>-random-seed<N>).")
    String name;

    @Option(names = "--input-policy", defaultValue = "native", description = "SPAI input policy recorded in the "
        + "bundle: native (upstream SPAI), resize:N (Sem-SPAI's fixed square) or native_grid (default "
        + "${DEFAULT-VALUE}).")
    String inputPolicy;

    @Option(names = "--model-version", defaultValue = "0.1.0", description = "Semantic version (default "
        + "${DEFAULT-VALUE}).")
    String version;

    @Override
    public Integer call() throws IOException {
      String bundleName = name != null ? name : "semspai-" + preset + "-random-seed" + seed;
      long t0 = System.nanoTime();
      Path dir;
      try {
        dir = SemSpaiBundles.writeRandom(out, SemSpaiBundles.Preset.named(preset.name()), seed, bundleName, version,
            inputPolicy);
      } catch (FileAlreadyExistsException e) {
        throw new UserError("--out " + out + " already exists and is not an empty directory");
      } catch (IllegalArgumentException e) {
        throw new UserError(e.getMessage());
      }
      PrintWriter o = spec.commandLine().getOut();
      o.printf("wrote %s: %s %s in %.1f s%n", dir, bundleName, version, (System.nanoTime() - t0) / 1e9);
      for (Map.Entry<String, BundleManifest.Component> e : ModelBundle.open(dir).manifest().components().entrySet()) {
        BundleManifest.Component c = e.getValue();
        o.printf("  component %s %s (%.1f MB, sha256 %s)%n", e.getKey(), c.file(), c.bytes() / 1e6, c.sha256());
      }
      o.println("  mode fusion, SPAI input " + inputPolicy + ", thresholds uncalibrated (0.5/0.5)");
      o.flush();
      return 0;
    }
  }

  @Command(
      name = "info",
      mixinStandardHelpOptions = true,
      description = "Print a bundle's manifest (a bundle directory or a packed .zip).")
  static final class Info implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "BUNDLE", description = "Bundle directory or archive.")
    Path bundle;

    @Option(names = "--verify", description = "Also check every weight file's size and sha256.")
    boolean verify;

    @Override
    public Integer call() throws IOException {
      PrintWriter o = spec.commandLine().getOut();
      if (Files.isRegularFile(bundle)) {
        if (verify) {
          throw new UserError("--verify needs a bundle directory; unpack the archive with `semspai model unpack`");
        }
        o.println(manifestFromArchive(bundle));
      } else {
        ModelBundle b = Bundles.open(bundle);
        o.println(b.manifest().toJson());
        if (verify) {
          try {
            b.verify();
          } catch (BundleException e) {
            throw new UserError(e.getMessage());
          }
          for (Map.Entry<String, BundleManifest.Component> e : b.manifest().components().entrySet()) {
            o.println("verified: " + e.getKey() + " (" + e.getValue().file() + ", sha256 ok)");
          }
        }
      }
      o.flush();
      return 0;
    }

    private static String manifestFromArchive(Path archive) {
      try (ZipFile zip = new ZipFile(archive.toFile())) {
        ZipEntry e = zip.getEntry(BundleManifest.FILE_NAME);
        if (e == null) {
          throw new UserError("bundle " + archive + ": the archive has no " + BundleManifest.FILE_NAME);
        }
        try (InputStream in = zip.getInputStream(e)) {
          return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
      } catch (IOException e) {
        throw new UserError("bundle " + archive + ": not a bundle archive (" + e.getMessage() + ")");
      }
    }
  }

  @Command(name = "pack", mixinStandardHelpOptions = true,
      description = "Verify a bundle directory and write it as one archive file for releases.")
  static final class Pack implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "BUNDLE_DIR")
    Path bundle;

    @Option(names = "--out", required = true, description = "Archive to write (must not exist), e.g. x.zip.")
    Path out;

    @Override
    public Integer call() throws IOException {
      try {
        BundleArchive.pack(bundle, out);
      } catch (BundleException e) {
        throw new UserError(e.getMessage());
      } catch (FileAlreadyExistsException e) {
        throw new UserError("--out " + out + " already exists");
      }
      spec.commandLine().getOut().printf("wrote %s (%.1f MB)%n", out, Files.size(out) / 1e6);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  @Command(name = "unpack", mixinStandardHelpOptions = true,
      description = "Extract a bundle archive into a new directory, verifying every checksum.")
  static final class Unpack implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "ARCHIVE")
    Path archive;

    @Option(names = "--out", required = true, description = "Bundle directory to create (must not exist).")
    Path out;

    @Override
    public Integer call() throws IOException {
      if (!Files.isRegularFile(archive)) {
        throw new UserError("archive " + archive + " does not exist");
      }
      try {
        BundleArchive.unpack(archive, out);
      } catch (BundleException e) {
        throw new UserError(e.getMessage());
      } catch (FileAlreadyExistsException e) {
        throw new UserError("--out " + out + " already exists and is not an empty directory");
      }
      spec.commandLine().getOut().println("unpacked and verified " + out);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
