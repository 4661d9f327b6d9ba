import { describe, expect, it } from "vitest";
import { escapeMarkdown } from "../../src/core/markdown";
import { helpViewModel } from "../../src/core/help";
import { renderCard } from "../../src/adapters/cards/render";
import { distinctLabels, listTitle } from "../../src/core/ask/views";
import { otherFailuresNote } from "../../src/app/answer";

function texts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => texts(n, out));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if ((k === "text" || k === "title" || k === "value") && typeof v === "string") out.push(v);
      else texts(v, out);
    }
  }
  return out;
}

describe("markdown escaping", () => {
  it.each([
    ["[click](http://evil.example)", "\\[click\\](http://evil.example)"],
    ["**bold** _it_", "\\*\\*bold\\*\\* \\_it\\_"],
    ["- item\n1. first\n# head", "\\- item\n1\\. first\n\\# head"],
    ["alice@contoso.com", "alice@contoso.com"],
    ["<b>x</b>", "\\<b\\>x\\</b\\>"],
    ["line\r\nnext", "line\nnext"],
  ])("%j -> %j", (input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected);
  });
});

describe("help card", () => {
  it("lists every capability section and binds all fields", () => {
    const vm = helpViewModel("1.2.3");
    const card = renderCard("help", vm).content;
    const all = texts(card);
    for (const section of vm.sections) expect(all).toContain(section.title);
    expect(all).toContain("provbot 1.2.3");
    expect(JSON.stringify(card)).not.toMatch(/\$\{/);
    expect(card["version"]).toBe("1.5");
  });

  it("shows the not-understood line only when there was something not understood", () => {
    const plain = texts(renderCard("help", helpViewModel("1")).content);
    expect(plain.some((t) => t.startsWith("I did not understand"))).toBe(false);
    const confused = texts(renderCard("help", helpViewModel("1", "flibber jabber")).content);
    expect(confused).toContain('I did not understand "flibber jabber". Here is what I can answer:');
  });

  it("escapes text from the user so it cannot inject links or formatting", () => {
    const card = renderCard("help", helpViewModel("1", "[x](https://evil.example) **loud**")).content;
    const line = texts(card).find((t) => t.startsWith("I did not understand"));
    expect(line).toContain("\\[x\\](https://evil.example) \\*\\*loud\\*\\*");
  });

  it("keeps action payloads unescaped, as plain Action.Submit data without messageBack (which breaks the Playground)", () => {
    const card = renderCard("help", helpViewModel("1")).content as { actions: { data: { text: string; msteams: { type: string; text: string } } }[] };
    expect(card.actions.map((a) => a.data.text)).toEqual(["failures in the last 24 hours", "top errors this week", "alerts"]);
    expect(card.actions[0]?.data.msteams).toBeUndefined();
    expect(JSON.stringify(card)).not.toContain("messageBack");
  });

  it("refuses a view-model that leaves a binding unresolved", () => {
    const vm = { ...helpViewModel("1") } as Record<string, unknown>;
    delete vm["intro"];
    // Deliberately not a HelpViewModel: the renderer must refuse it, not send ${intro} to Teams.
    expect(() => renderCard("help", vm as never)).toThrow(/unresolved binding \$\{intro\}/);
  });
});

describe("data is never template syntax (issue 9, case 2)", () => {
  it.each([
    ["eventList", { title: "Failures in the last 24 hours", subtitle: "s", hasRows: true, empty: "", rows: [{ when: "10:00", who: "Eve ${x}", what: "Invalid value ${userName} for attribute userName", color: "Attention", data: { text: "change ${x}" } }], actions: [], hasMore: false, portalUrl: "", hasPortalUrl: false }, ["Eve ${x}", "Invalid value ${userName} for attribute userName"]],
    ["help", { ...helpViewModel("1", "${$root}") }, ["${$root}"]],
    ["info", { title: "Mallory ${name}", text: "${$root.title}", facts: [{ title: "${a}", value: "${b}" }], hasFacts: true, actions: [] }, ["Mallory ${name}", "${$root.title}", "${a}", "${b}"]],
  ] as const)("%s shows ${...} in data as text", (name, vm, expected) => {
    const card = renderCard(name, vm as never);
    const shown = texts(card.content).join("\n");
    for (const e of expected) expect(shown).toContain(e);
  });

  it("renders an alert whose affected objects hold ${...}", () => {
    const vm = { title: "Failure spike · Mallory ${name}", status: "Open", statusColor: "Attention", summary: "${x}", facts: [{ title: "App", value: "${app}" }], hasStaged: false, staged: "", errors: [{ code: "${code}", count: "3", fix: "${fix}" }], hasErrors: true, affectedTitle: "Affected", affected: [{ text: "Mallory ${name}" }], hasAffected: true, actions: [], portalUrl: "", hasPortalUrl: false };
    const shown = texts(renderCard("alert", vm).content).join("\n");
    expect(shown).toContain("Mallory ${name}");
  });

  it("clips data until the card fits Teams' 40 KB, whatever its size", () => {
    const rows = Array.from({ length: 10 }, () => ({ when: "10:00", who: "N".repeat(40_000), what: "S".repeat(1_000_000), color: "Attention", data: { text: "x" } }));
    const card = renderCard("eventList", { title: "A".repeat(30_000), subtitle: "s", hasRows: true, empty: "", rows, actions: [], hasMore: false, portalUrl: "", hasPortalUrl: false });
    expect(JSON.stringify(card.content).length * 2).toBeLessThanOrEqual(40 * 1024);
    expect(texts(card.content).join("")).toContain("NNN…");
  });
});

describe("list rows that read alike (issue 10, item 5)", () => {
  const row = (who: string, identity: string, identityType: string) => ({ at: "2026-11-22T10:00:00.000Z", who, app: "Zscaler", action: "delete", status: "success", errorCode: "", changeId: `c-${who}-${identity}`, identity, identityType });
  it("shows the type when users and groups are mixed, and the UPN when two people share a name", () => {
    const { labels } = distinctLabels([row("Sales", "", "Group"), row("Alex Kim", "alex.kim@contoso.com", "User"), row("Alex Kim", "alex.kim2@contoso.com", "User")]);
    expect(labels).toEqual(["Sales · Group", "Alex Kim (alex.kim@contoso.com) · User", "Alex Kim (alex.kim2@contoso.com) · User"]);
  });
  it("says that a repeated name is several events of one person", () => {
    const { labels, repeats } = distinctLabels([row("Alex Kim", "alex.kim@contoso.com", "User"), row("Alex Kim", "alex.kim@contoso.com", "User"), row("Bo Li", "bo.li@contoso.com", "User")]);
    expect(labels).toEqual(["Alex Kim", "Alex Kim", "Bo Li"]);
    expect(repeats).toBe(true);
  });
});

describe("words on cards (issue 10, item 8)", () => {
  it("list titles read as English", () => {
    expect(listTitle({ identityType: "User", actions: ["delete", "disable"], status: "success" })).toBe("Users deleted or disabled · Success");
    expect(listTitle({ status: "failure", errorCode: "DuplicateTargetEntries" })).toBe("Events · Failure with DuplicateTargetEntries");
    expect(listTitle({ actions: ["other"] })).toBe("Events other actions");
  });

  it("counts take the right number, and the other-events note names each app once", () => {
    expect(otherFailuresNote("Bob Li", ["Salesforce"], "skipped", " in Salesforce", "last 30 days")).toBe("Bob Li has 1 more skipped event in Salesforce in the last 30 days.");
    expect(otherFailuresNote("Alice", ["Box", "Box", "Adobe"], "failure", "", "last 7 days")).toBe("Alice has 3 more failed events in the last 7 days: 2 in Box, 1 in Adobe.");
  });
});

describe("what clipping never cuts", () => {
  it("keeps links and action payloads whole even when data is clipped hardest", () => {
    const url = `https://entra.microsoft.com/#view/Microsoft_AAD_IAM/ManagedAppMenuBlade/~/ProvisioningManagement/appId/${"a".repeat(36)}/objectId/${"b".repeat(36)}`;
    const ask = `what happened to ${"x".repeat(280)}@contoso.com`;
    const rows = Array.from({ length: 10 }, () => ({ when: "10:00", who: "N".repeat(40_000), what: "S".repeat(100_000), color: "Attention", data: { text: ask } }));
    const card = renderCard("eventList", { title: "T".repeat(30_000), subtitle: "s", hasRows: true, empty: "", rows, actions: [], hasMore: false, portalUrl: url, hasPortalUrl: true }).content;
    const json = JSON.stringify(card);
    expect(json).toContain(JSON.stringify(url));
    expect(json).toContain(JSON.stringify(ask));
  });
});
