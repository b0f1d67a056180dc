package io.semspai.checkpoint;

import static io.semspai.checkpoint.Fixtures.path;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way a checkpoint can be unreadable gets its own message naming the file, the key and the problem. */
class TorchCheckpointErrorsTest {
  @TempDir Path tmp;

  private static String openFails(Path file) {
    return assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(file).close()).getMessage();
  }

  private static String stateDictFails(Path file) throws Exception {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
      return assertThrows(CheckpointException.class, ckpt::stateDict).getMessage();
    }
  }

  private static void assertContains(String message, String... parts) {
    for (String part : parts) {
      assertTrue(message.contains(part), "expected «" + part + "» in: " + message);
    }
  }

  @Test
  void notAZip() {
    assertContains(openFails(path("notzip.pth")), "notzip.pth: not a PyTorch checkpoint",
        "starts with 74686973");
  }

  @Test
  void emptyFile() throws Exception {
    Path empty = Files.createFile(tmp.resolve("empty.pth"));
    assertContains(openFails(empty), "empty.pth: empty file");
  }

  @Test
  void missingFile() {
    assertContains(openFails(tmp.resolve("nope.pth")), "nope.pth: no such file");
  }

  @Test
  void truncatedDownload() {
    assertContains(openFails(path("truncated.pth")), "truncated.pth: truncated",
        "zip central directory at the end of the file is missing", "fetch the file again");
  }

  @Test
  void corruptCentralDirectory() throws Exception {
    byte[] bytes = Files.readAllBytes(path("spai_like.pth"));
    // Break the signature of the first central directory record ("PK\1\2").
    for (int i = 0; i + 3 < bytes.length; i++) {
      if (bytes[i] == 'P' && bytes[i + 1] == 'K' && bytes[i + 2] == 1 && bytes[i + 3] == 2) {
        bytes[i + 2] = 9;
        break;
      }
    }
    Path broken = Files.write(tmp.resolve("broken.pth"), bytes);
    assertContains(openFails(broken), "broken.pth: corrupt zip archive");
  }

  @Test
  void corruptPickleIsCaughtByItsCrc() {
    assertContains(openFails(path("corrupt_crc.pth")), "corrupt_crc.pth: spai_like/data.pkl is corrupt",
        "CRC");
  }

  @Test
  void corruptTensorDataIsCaughtByItsCrcWhenRead() throws Exception {
    byte[] bytes = Files.readAllBytes(path("bare_fp16.pth"));
    // The 'special' tensor holds 65504 = 0x7bff; change one of its bytes in place.
    int at = -1;
    for (int i = 0; i + 1 < bytes.length; i++) {
      if ((bytes[i] & 0xff) == 0xff && (bytes[i + 1] & 0xff) == 0x7b) {
        at = i;
      }
    }
    bytes[at] = 0x00;
    Path broken = Files.write(tmp.resolve("flipped.pth"), bytes);
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(broken)) {
      TorchTensor special = ckpt.stateDict().get("special");
      String message = assertThrows(CheckpointException.class, special::toFloats).getMessage();
      assertContains(message, "flipped.pth: tensor 'special'", "data/1 is corrupt (CRC mismatch)");
    }
  }

  @Test
  void legacyFormatIsRefusedWithHowToResave() {
    assertContains(openFails(path("legacy.pth")), "legacy.pth: legacy torch.save format (PyTorch before 1.6)",
        "torch.save(torch.load(path, map_location='cpu'), new_path)");
  }

  @Test
  void torchScriptIsRefused() {
    assertContains(openFails(path("torchscript.pt")), "torchscript.pt: a TorchScript archive");
  }

  @Test
  void unsupportedPickleOpcode() {
    assertContains(openFails(path("bad_opcode.pth")), "bad_opcode.pth: data.pkl: unsupported pickle opcode",
        "(PUT, protocol 0 text)", "at byte 2");
  }

  @Test
  void missingStorageNamesTheKey() throws Exception {
    assertContains(stateDictFails(path("missing_storage.pth")), "missing_storage.pth: ",
        "1 unreadable tensor: tensor 'scalar': its storage data/1 is missing from the archive");
  }

  @Test
  void storageShorterThanTheTensorsNeeds() throws Exception {
    String message = stateDictFails(path("short_storage.pth"));
    assertContains(message, "short_storage.pth: ",
        "tensor 'x': its storage data/0 holds 12 bytes but the tensor needs 20", "truncated or damaged");
    assertContains(message, "tensor 'y'", "tensor 't'");
  }

  @Test
  void unsupportedDtype() throws Exception {
    String message = stateDictFails(path("complex.pth"));
    assertContains(message, "complex.pth: 1 unreadable tensor: tensor 'c': unsupported dtype ComplexFloatStorage");
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(path("complex.pth"))) {
      TorchTensor c = (TorchTensor) ((java.util.Map<?, ?>) ckpt.root()).get("c");
      assertContains(assertThrows(CheckpointException.class, c::toFloats).getMessage(), "unsupported dtype");
    }
  }

  @Test
  void wrongReaderForTheDtype() throws Exception {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(path("views.pth"))) {
      StateDict sd = ckpt.stateDict();
      assertContains(assertThrows(CheckpointException.class, sd.get("i64")::toFloats).getMessage(),
          "views.pth: tensor 'i64': toFloats() cannot read a int64 tensor; use toLongs()");
      assertContains(assertThrows(CheckpointException.class, sd.get("x")::toLongs).getMessage(),
          "tensor 'x': toLongs() cannot read a float32 tensor");
    }
  }

  @Test
  void noStateDictOrWrongKey() throws Exception {
    try (TorchCheckpoint ckpt = TorchCheckpoint.open(path("spai_like.pth"))) {
      assertContains(assertThrows(CheckpointException.class, () -> ckpt.stateDict("ema")).getMessage(),
          "spai_like.pth: has no 'ema' entry; the top-level keys are [model, optimizer, lr_scheduler,"
              + " max_accuracy, epoch, config]");
      assertContains(assertThrows(CheckpointException.class, () -> ckpt.stateDict("epoch")).getMessage(),
          "'epoch' holds a int, not a state dict");
      // The optimizer dict is a dict but holds no tensors at its top: it opens, empty, its entries skipped.
      StateDict opt = ckpt.stateDict("optimizer");
      assertEquals(0, opt.size());
      assertEquals(List.of("state", "param_groups"), List.copyOf(opt.skipped().keySet()));
    }
    Path noModel = tmp.resolve("nomodel.pth");
    try (TorchCheckpointWriter w = TorchCheckpointWriter.create(noModel)) {
      w.finish(java.util.Map.of("epoch", 3));
    }
    assertContains(stateDictFails(noModel), "nomodel.pth: no state dict found",
        "the top-level keys are [epoch]");
  }

  @Test
  void safetensorsIsRecognised() throws Exception {
    byte[] header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes();
    byte[] bytes = new byte[8 + header.length + 4];
    bytes[0] = (byte) header.length;
    System.arraycopy(header, 0, bytes, 8, header.length);
    Path st = Files.write(tmp.resolve("model.safetensors"), bytes);
    assertContains(openFails(st), "model.safetensors: looks like a safetensors file");
  }
}
