/** What the bot can do, as a card view-model. Pure data: the card template decides the look. */
export interface HelpSection {
  title: string;
  examples: string[];
}

export interface HelpViewModel {
  title: string;
  intro: string;
  /** Set when the user typed something the bot did not understand. */
  notUnderstood: string | null;
  hasNotUnderstood: boolean;
  sections: HelpSection[];
  tryIt: { title: string; data: { text: string } }[];
  version: string;
}

export const HELP_SECTIONS: HelpSection[] = [
  {
    title: "Why did something fail or get skipped",
    examples: ["why did alice fail in ServiceNow?", "why was bob skipped in Salesforce", "alice servicenow"],
  },
  {
    title: "One identity across apps",
    examples: ["what happened to alice?", "is bob provisioned in Box?"],
  },
  {
    title: "Look up by id",
    examples: ["<paste a changeId>", "cycle <cycleId>", "job <jobId>", "alice@contoso.com"],
  },
  {
    title: "Lists with the portal's filters",
    examples: ["what users were removed from Adobe this week?", "failures in the last 24 hours", "what groups were created in ServiceNow?"],
  },
  {
    title: "Statistics and health",
    examples: ["top errors in ServiceNow this week", "activity by action per day", "how is Salesforce doing?"],
  },
  {
    title: "Job status and the audit trail",
    examples: ["status of all apps", "which jobs are quarantined?", "when will alice be provisioned in Box?", "what changed in the Salesforce provisioning configuration?", "quarantine history of Salesforce"],
  },
  {
    title: "Alerts in this chat or channel",
    examples: ["subscribe", "subscribe ServiceNow, Adobe to failures and removals", "subscribe to digest", "subscribe to quarantine", "alerts", "mute Adobe for 2h", "unmute", "threshold ServiceNow failures 25", "unsubscribe"],
  },
];

export function helpViewModel(version: string, notUnderstood?: string): HelpViewModel {
  const trimmed = notUnderstood?.trim();
  return {
    title: "provbot: Entra ID provisioning, answered in chat",
    intro: "Ask in plain English about provisioning events from Microsoft Entra ID to your apps and from HR into the directory.",
    notUnderstood: trimmed ? trimmed.slice(0, 200) : null,
    hasNotUnderstood: Boolean(trimmed),
    sections: HELP_SECTIONS,
    tryIt: [
      { title: "Failures in the last 24 hours", data: { text: "failures in the last 24 hours" } },
      { title: "Top errors this week", data: { text: "top errors this week" } },
      { title: "Alerts here", data: { text: "alerts" } },
    ],
    version,
  };
}
