package dev.peercred.policy;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR event for the authorization of one command on a connection. */
@Name("dev.peercred.CommandDecision")
@Label("Command Decision")
@Category({"peercred", "Audit"})
@Description("Whether a Unix socket peer was allowed to run a command, and why")
@StackTrace(false)
final class CommandDecisionEvent extends Event {
  @Label("Endpoint")
  @Description("The socket address the connection came in on")
  String endpoint;

  @Label("Command")
  @Description("The command the peer asked to run, such as get or set")
  String command;

  @Label("Pid")
  @Description("The peer's pid in this pid namespace; 0 when not visible")
  long pid;

  @Label("Uid")
  long uid;

  @Label("Gid")
  long gid;

  @Label("Executable")
  @Description("The peer's executable where known")
  String executable;

  @Label("Allowed")
  boolean allowed;

  @Label("Outcome")
  @Description("ALLOW, DENY, or ERROR (could not decide; denied)")
  String outcome;

  @Label("Reason")
  String reason;
}
