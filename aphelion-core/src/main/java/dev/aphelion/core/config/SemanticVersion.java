package dev.aphelion.core.config;

import dev.aphelion.core.error.ConfigException;
import java.util.ArrayList;
import java.util.List;

/**
 * A semantic version as defined by <a href="https://semver.org/spec/v2.0.0.html">SemVer
 * 2.0.0</a>: {@code MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]}.
 *
 * <p>{@link #parse} is strict: three numeric components without leading zeros, pre-release
 * identifiers that are alphanumeric-with-hyphen (numeric ones without leading zeros), build
 * identifiers alphanumeric-with-hyphen, none empty. {@link #parseLenient} also accepts a missing
 * minor or patch ({@code "1"}, {@code "1.0"}), which are read as zero; everything else stays
 * strict. {@link #compareTo} implements SemVer precedence (build metadata ignored), while {@link
 * #equals} also compares build metadata, so it is consistent with {@link #toString}.
 *
 * @param major the major version, at least 0
 * @param minor the minor version, at least 0
 * @param patch the patch version, at least 0
 * @param preRelease the dot-separated pre-release identifiers, empty for a release
 * @param build the dot-separated build metadata identifiers, possibly empty
 */
public record SemanticVersion(
    long major, long minor, long patch, List<String> preRelease, List<String> build)
    implements Comparable<SemanticVersion> {

  /**
   * Creates a version, validating each part.
   *
   * @throws ConfigException if a number is negative or an identifier is malformed
   */
  public SemanticVersion {
    if (major < 0 || minor < 0 || patch < 0) {
      throw new ConfigException(
          "version numbers must be >= 0, got " + major + "." + minor + "." + patch);
    }
    preRelease = List.copyOf(preRelease);
    build = List.copyOf(build);
    for (String id : preRelease) {
      checkIdentifier(id, true, "pre-release", String.join(".", preRelease));
    }
    for (String id : build) {
      checkIdentifier(id, false, "build", String.join(".", build));
    }
  }

  /**
   * A release version without pre-release or build parts.
   *
   * @param major the major version
   * @param minor the minor version
   * @param patch the patch version
   * @return the version
   */
  public static SemanticVersion of(long major, long minor, long patch) {
    return new SemanticVersion(major, minor, patch, List.of(), List.of());
  }

  /**
   * Parses a strict SemVer 2.0.0 string.
   *
   * @param text for example {@code 1.0.0}, {@code 2.1.3-rc.1+build.5}
   * @return the version
   * @throws ConfigException naming the text and the problem if it is not a valid version
   */
  public static SemanticVersion parse(String text) {
    return parse(text, false);
  }

  /**
   * Parses a version, also accepting a missing minor or patch number ({@code "1"} is 1.0.0,
   * {@code "1.0"} is 1.0.0, {@code "1.2-beta"} is 1.2.0-beta). Leading zeros, a {@code v}
   * prefix, empty parts and anything else outside SemVer are still rejected.
   *
   * @param text the version text
   * @return the version
   * @throws ConfigException naming the text and the problem if it is not a valid version
   */
  public static SemanticVersion parseLenient(String text) {
    return parse(text, true);
  }

  private static SemanticVersion parse(String text, boolean lenient) {
    if (text == null) {
      throw new ConfigException("version must not be null");
    }
    String core = text;
    List<String> build = List.of();
    List<String> pre = List.of();
    int plus = core.indexOf('+');
    if (plus >= 0) {
      build = splitIdentifiers(core.substring(plus + 1), text, "build metadata");
      core = core.substring(0, plus);
    }
    int dash = core.indexOf('-');
    if (dash >= 0) {
      pre = splitIdentifiers(core.substring(dash + 1), text, "pre-release");
      core = core.substring(0, dash);
    }
    String[] parts = core.split("\\.", -1);
    if (parts.length != 3 && !(lenient && parts.length >= 1 && parts.length <= 3)) {
      throw new ConfigException(
          "malformed version '"
              + text
              + "': expected MAJOR.MINOR.PATCH"
              + (lenient ? " (minor and patch may be omitted)" : ""));
    }
    long[] numbers = new long[3];
    String[] names = {"major", "minor", "patch"};
    for (int i = 0; i < parts.length; i++) {
      numbers[i] = parseNumber(parts[i], text, names[i]);
    }
    try {
      return new SemanticVersion(numbers[0], numbers[1], numbers[2], pre, build);
    } catch (ConfigException e) {
      throw new ConfigException("malformed version '" + text + "': " + e.getMessage(), e);
    }
  }

  private static List<String> splitIdentifiers(String s, String text, String what) {
    String[] ids = s.split("\\.", -1);
    List<String> out = new ArrayList<>(ids.length);
    for (String id : ids) {
      if (id.isEmpty()) {
        throw new ConfigException("malformed version '" + text + "': empty " + what + " identifier");
      }
      out.add(id);
    }
    return out;
  }

  private static long parseNumber(String s, String text, String what) {
    if (s.isEmpty()) {
      throw new ConfigException("malformed version '" + text + "': empty " + what + " number");
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        throw new ConfigException(
            "malformed version '" + text + "': " + what + " '" + s + "' is not a number");
      }
    }
    if (s.length() > 1 && s.charAt(0) == '0') {
      throw new ConfigException(
          "malformed version '" + text + "': " + what + " '" + s + "' has a leading zero");
    }
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new ConfigException(
          "malformed version '" + text + "': " + what + " '" + s + "' is too large", e);
    }
  }

  private static void checkIdentifier(String id, boolean pre, String what, String all) {
    if (id == null || id.isEmpty()) {
      throw new ConfigException("empty " + what + " identifier in '" + all + "'");
    }
    boolean numeric = true;
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean digit = c >= '0' && c <= '9';
      boolean ok = digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
      if (!ok) {
        throw new ConfigException(
            what + " identifier '" + id + "' may only hold [0-9A-Za-z-], found '" + c + "'");
      }
      numeric &= digit;
    }
    if (pre && numeric && id.length() > 1 && id.charAt(0) == '0') {
      throw new ConfigException("numeric pre-release identifier '" + id + "' has a leading zero");
    }
  }

  /** Whether this is a pre-release (has pre-release identifiers). */
  public boolean isPreRelease() {
    return !preRelease.isEmpty();
  }

  /**
   * SemVer precedence: numbers numerically, a pre-release before its release, pre-release
   * identifiers left to right (numeric ones numerically and before alphanumeric ones, those in
   * ASCII order, fewer identifiers first when all else is equal). Build metadata is ignored, so
   * this ordering is coarser than {@link #equals}.
   */
  @Override
  public int compareTo(SemanticVersion o) {
    int c = Long.compare(major, o.major);
    if (c == 0) {
      c = Long.compare(minor, o.minor);
    }
    if (c == 0) {
      c = Long.compare(patch, o.patch);
    }
    if (c != 0) {
      return c;
    }
    if (preRelease.isEmpty() || o.preRelease.isEmpty()) {
      return Boolean.compare(preRelease.isEmpty(), o.preRelease.isEmpty());
    }
    int n = Math.min(preRelease.size(), o.preRelease.size());
    for (int i = 0; i < n; i++) {
      c = compareIdentifiers(preRelease.get(i), o.preRelease.get(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(preRelease.size(), o.preRelease.size());
  }

  private static int compareIdentifiers(String a, String b) {
    boolean an = isNumeric(a);
    boolean bn = isNumeric(b);
    if (an && bn) {
      // No leading zeros, so longer means larger; this also handles numbers beyond long.
      return a.length() != b.length() ? Integer.compare(a.length(), b.length()) : a.compareTo(b);
    }
    if (an != bn) {
      return an ? -1 : 1;
    }
    return a.compareTo(b);
  }

  private static boolean isNumeric(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  /** The canonical text, for example {@code 1.2.3-rc.1+build.7}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder().append(major).append('.').append(minor).append('.');
    sb.append(patch);
    if (!preRelease.isEmpty()) {
      sb.append('-').append(String.join(".", preRelease));
    }
    if (!build.isEmpty()) {
      sb.append('+').append(String.join(".", build));
    }
    return sb.toString();
  }
}
