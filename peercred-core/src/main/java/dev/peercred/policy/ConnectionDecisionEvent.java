package dev.peercred.policy;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR event for one connection's authorization decision. */
@Name("dev.peercred.ConnectionDecision")
@Label("Connection Decision")
@Category({"peercred", "Audit"})
@Description("Whether a Unix socket peer was allowed to connect, and why")
@StackTrace(false)
final class ConnectionDecisionEvent extends DecisionEvent {}
