package dev.peercred.cli.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a Docker {@code POST /containers/create} body asks of the host, read with a real JSON
 * parser: whether the container would get any access beyond its own sandbox.
 *
 * <p>The Engine decodes the body with Go's {@code encoding/json}, which matches field names to
 * struct fields case-insensitively (with Unicode folding, so {@code "Bind\u017f"} is {@code Binds})
 * and lets the last of repeated fields win. So fields are looked up folded the same way, and a body
 * that repeats a field under any spelling is unreadable, as is one that is not JSON, not an object,
 * nests too deep, or gives a field a type the Engine would reject. An unreadable body is never
 * judged: the rule that needs it cannot be checked, which denies (CVE-2024-41110 was a plugin that
 * let bodies it could not read through).
 */
final class ContainerBody {
  private ContainerBody() {}

  /** The largest body read; a larger one is unreadable. */
  static final int MAX_LENGTH = 1 << 20;

  private static final JsonFactory JSON =
      JsonFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxNestingDepth(64)
                  .maxDocumentLength(MAX_LENGTH)
                  .maxStringLength(MAX_LENGTH)
                  .maxNumberLength(64)
                  .maxNameLength(1024)
                  .build())
          .build();

  /** Whether {@code request} creates a container: the request whose body this class reads. */
  static boolean isCreation(Request request) {
    return HttpRules.isContainerCreation(request.method(), request.path().route());
  }

  /** A body the guard cannot judge, with why. */
  static final class UnreadableException extends Exception {
    private static final long serialVersionUID = 1L;

    UnreadableException(String message) {
      super(message);
    }
  }

  /**
   * Reads {@code body} and lists the host access it asks for, such as {@code HostConfig.Privileged}
   * or {@code HostConfig.Binds}; an empty list means none.
   *
   * @throws UnreadableException if the body cannot be judged
   */
  static List<String> hostAccess(byte[] body, int length) throws UnreadableException {
    Object root;
    try (JsonParser parser = JSON.createParser(body, 0, length)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        throw new UnreadableException("the body is empty");
      }
      root = value(parser, first);
      if (parser.nextToken() != null) {
        throw new UnreadableException("more than one JSON value in the body");
      }
    } catch (StreamConstraintsException e) {
      throw new UnreadableException("the body is beyond a limit: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UnreadableException("the body is not valid JSON: " + firstLine(e.getMessage()));
    }
    if (!(root instanceof Map<?, ?>)) {
      throw new UnreadableException("the body is not a JSON object");
    }
    List<String> access = new ArrayList<>();
    Object hostConfig = field(root, "HostConfig", "");
    if (hostConfig == null) {
      return access;
    }
    if (!(hostConfig instanceof Map<?, ?>)) {
      throw new UnreadableException("HostConfig is not an object");
    }
    String at = "HostConfig.";
    if (Boolean.TRUE.equals(bool(hostConfig, "Privileged", at))) {
      access.add("HostConfig.Privileged");
    }
    for (String list :
        List.of("Binds", "CapAdd", "Devices", "DeviceRequests", "DeviceCgroupRules")) {
      if (!array(hostConfig, list, at).isEmpty()) {
        access.add(at + list);
      }
    }
    if (!array(hostConfig, "VolumesFrom", at).isEmpty()) {
      access.add(at + "VolumesFrom"); // another container's mounts, binds included
    }
    String cgroupParent = string(hostConfig, "CgroupParent", at);
    if (cgroupParent != null && !cgroupParent.isEmpty()) {
      access.add(at + "CgroupParent"); // a cgroup of the host's choosing, outside docker's
    }
    for (String mode :
        List.of("NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode", "CgroupnsMode")) {
      String value = string(hostConfig, mode, at);
      if (value != null && joinsNamespace(value)) {
        access.add(at + mode + "=" + value);
      }
    }
    for (String paths : List.of("MaskedPaths", "ReadonlyPaths")) {
      if (field(hostConfig, paths, at) != null) {
        access.add(at + paths); // changing them unmasks parts of /proc and /sys
      }
    }
    for (Object option : array(hostConfig, "SecurityOpt", at)) {
      if (!(option instanceof String text)) {
        throw new UnreadableException("HostConfig.SecurityOpt holds a value that is not a string");
      }
      if (!NO_NEW_PRIVILEGES.matcher(text).matches()) {
        access.add("HostConfig.SecurityOpt " + text);
      }
    }
    List<Object> mounts = array(hostConfig, "Mounts", at);
    for (int i = 0; i < mounts.size(); i++) {
      mount(mounts.get(i), "HostConfig.Mounts[" + i + "]", access);
    }
    return access;
  }

  /**
   * The one security option that only narrows what a container may do; every other one (a seccomp
   * profile, an AppArmor profile, an SELinux label such as {@code label=type:spc_t}, {@code
   * disable}, {@code writable-cgroups=true}) can widen it. The Engine reads the key as written and
   * the value with Go's {@code strconv.ParseBool}.
   */
  private static final Pattern NO_NEW_PRIVILEGES =
      Pattern.compile("no-new-privileges(?:[=:](?:1|t|T|TRUE|true|True|0|f|F|FALSE|false|False))?");

  /**
   * Whether a namespace mode leaves the container's own namespace: {@code host}, another
   * container's ({@code container:ID}, which may itself be the host's) or a path (Podman's {@code
   * ns:/proc/1/ns/net}).
   */
  private static boolean joinsNamespace(String mode) {
    String lower = mode.toLowerCase(Locale.ROOT);
    return lower.equals("host") || lower.startsWith("container:") || lower.startsWith("ns:");
  }

  private static void mount(Object mount, String at, List<String> access)
      throws UnreadableException {
    if (!(mount instanceof Map<?, ?>)) {
      throw new UnreadableException(at + " is not an object");
    }
    String type = string(mount, "Type", at + ".");
    if (!"volume".equals(type) && !"tmpfs".equals(type)) {
      access.add(at + " of type " + type); // bind, npipe, image, ... or none: the host's files
      return;
    }
    Object options = field(mount, "VolumeOptions", at + ".");
    if (options == null) {
      return;
    }
    if (!(options instanceof Map<?, ?>)) {
      throw new UnreadableException(at + ".VolumeOptions is not an object");
    }
    Object driver = field(options, "DriverConfig", at + ".VolumeOptions.");
    if (driver == null) {
      return;
    }
    if (!(driver instanceof Map<?, ?>)) {
      throw new UnreadableException(at + ".VolumeOptions.DriverConfig is not an object");
    }
    // The local driver's options (type=none, o=bind, device=/etc) bind a host directory.
    if (field(driver, "Options", at + ".VolumeOptions.DriverConfig.") != null) {
      access.add(at + ".VolumeOptions.DriverConfig.Options");
    }
  }

  /** The field of a JSON object named {@code name} as Go would match it; null if absent. */
  private static Object field(Object object, String name, String at) throws UnreadableException {
    String wanted = fold(name);
    Object found = null;
    String foundKey = null;
    for (Map.Entry<?, ?> entry : ((Map<?, ?>) object).entrySet()) {
      String key = (String) entry.getKey();
      if (fold(key).equals(wanted)) {
        if (foundKey != null) {
          throw new UnreadableException(
              at + name + " is given twice (\"" + foundKey + "\" and \"" + key + "\")");
        }
        foundKey = key;
        found = entry.getValue();
      }
    }
    return found == NULL ? null : found;
  }

  private static Boolean bool(Object object, String name, String at) throws UnreadableException {
    Object value = field(object, name, at);
    if (value != null && !(value instanceof Boolean)) {
      throw new UnreadableException(at + name + " is not a boolean");
    }
    return (Boolean) value;
  }

  private static String string(Object object, String name, String at) throws UnreadableException {
    Object value = field(object, name, at);
    if (value != null && !(value instanceof String)) {
      throw new UnreadableException(at + name + " is not a string");
    }
    return (String) value;
  }

  private static List<Object> array(Object object, String name, String at)
      throws UnreadableException {
    Object value = field(object, name, at);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof List<?> list)) {
      throw new UnreadableException(at + name + " is not an array");
    }
    @SuppressWarnings("unchecked")
    List<Object> items = (List<Object>) list;
    return items;
  }

  /** Go's case folding of field names: each code point to upper(lower(c)). */
  static String fold(String name) {
    StringBuilder folded = new StringBuilder(name.length());
    name.codePoints()
        .forEach(c -> folded.appendCodePoint(Character.toUpperCase(Character.toLowerCase(c))));
    return folded.toString();
  }

  /** JSON null, kept apart from a missing field. */
  private static final Object NULL = new Object();

  private static Object value(JsonParser parser, JsonToken token) throws IOException {
    return switch (token) {
      case START_OBJECT -> {
        Map<String, Object> object = new LinkedHashMap<>();
        JsonToken t;
        while ((t = parser.nextToken()) == JsonToken.FIELD_NAME) {
          String name = parser.currentName();
          Object previous = object.put(name, value(parser, parser.nextToken()));
          if (previous != null) {
            throw new com.fasterxml.jackson.core.JsonParseException(
                parser, "field \"" + name + "\" is given twice");
          }
        }
        if (t != JsonToken.END_OBJECT) {
          throw new com.fasterxml.jackson.core.JsonParseException(parser, "unexpected " + t);
        }
        yield object;
      }
      case START_ARRAY -> {
        List<Object> array = new ArrayList<>();
        JsonToken t;
        while ((t = parser.nextToken()) != JsonToken.END_ARRAY) {
          if (t == null) {
            throw new com.fasterxml.jackson.core.JsonParseException(parser, "unexpected end");
          }
          array.add(value(parser, t));
        }
        yield array;
      }
      case VALUE_STRING -> parser.getText();
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> parser.getDecimalValue();
      case VALUE_TRUE -> Boolean.TRUE;
      case VALUE_FALSE -> Boolean.FALSE;
      case VALUE_NULL -> NULL;
      default ->
          throw new com.fasterxml.jackson.core.JsonParseException(parser, "unexpected " + token);
    };
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "?";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
