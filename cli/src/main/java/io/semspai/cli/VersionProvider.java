package io.semspai.cli;

import picocli.CommandLine;

final class VersionProvider implements CommandLine.IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = SemspaiCommand.class.getPackage().getImplementationVersion();
    return new String[] {"semspai " + (v == null ? "development build" : v)};
  }
}
