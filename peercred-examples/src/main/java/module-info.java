/** Example servers built on peercred; the command-line tool runs them. */
module dev.peercred.examples {
  requires transitive dev.peercred;

  exports dev.peercred.examples;
}
