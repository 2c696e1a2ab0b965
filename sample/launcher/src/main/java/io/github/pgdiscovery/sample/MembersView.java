package io.github.pgdiscovery.sample;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One node's answer to {@code GET /cluster/members} (Akka Management cluster HTTP), reduced to what
 * is shown.
 */
record MembersView(String selfNode, String leader, List<Member> members, int unreachableCount) {

  record Member(String node, String status, List<String> roles) {}

  static MembersView parse(ObjectMapper json, String body) throws IOException {
    JsonNode root = json.readTree(body);
    List<Member> members = new ArrayList<>();
    for (JsonNode member : root.path("members")) {
      List<String> roles = new ArrayList<>();
      for (JsonNode role : member.path("roles")) {
        roles.add(role.asText());
      }
      members.add(
          new Member(
              member.path("node").asText(), member.path("status").asText(), List.copyOf(roles)));
    }
    // "leader" is absent while the node is not in a cluster.
    String leader = root.hasNonNull("leader") ? root.get("leader").asText() : null;
    return new MembersView(
        root.path("selfNode").asText(),
        leader,
        List.copyOf(members),
        root.path("unreachable").size());
  }

  /** This node's own entry, or null while it is not a member yet. */
  Member self() {
    return member(selfNode);
  }

  Member member(String node) {
    for (Member member : members) {
      if (member.node().equals(node)) {
        return member;
      }
    }
    return null;
  }

  long upCount() {
    return members.stream().filter(member -> "Up".equals(member.status())).count();
  }
}
