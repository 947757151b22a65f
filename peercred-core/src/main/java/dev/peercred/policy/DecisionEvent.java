package dev.peercred.policy;

import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;

/** The fields every authorization event records about the peer and the decision. */
abstract class DecisionEvent extends Event {
  @Label("Endpoint")
  @Description("The socket address the connection came in on")
  String endpoint;

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
