package dev.peercred.policy;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR event for the authorization of one command on a connection. */
@Name("dev.peercred.CommandDecision")
@Label("Command Decision")
@Category({"peercred", "Audit"})
@Description("Whether a Unix socket peer was allowed to run a command, and why")
@StackTrace(false)
final class CommandDecisionEvent extends DecisionEvent {
  @Label("Command")
  @Description("The command the peer asked to run, such as get or set")
  String command;
}
