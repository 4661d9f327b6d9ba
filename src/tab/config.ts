import { app, pages } from "@microsoft/teams-js";

/**
 * The configurable tab's configuration page (channels and group chats): tells Teams where the tab
 * lives and lets the Save button through. Outside Teams there is nothing to configure.
 */
async function configure(): Promise<void> {
  if (window.self === window.top) return;
  await app.initialize();
  const base = `${window.location.origin}/api/tab`;
  pages.config.registerOnSaveHandler((save) => {
    void pages.config.setConfig({ contentUrl: base, websiteUrl: base, entityId: "provbot-health", suggestedDisplayName: "Provisioning health" }).then(() => save.notifySuccess());
  });
  pages.config.setValidityState(true);
}

void configure();
