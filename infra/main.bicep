// provbot on Azure: one resource group with the Function App (Flex Consumption, Node 22), its
// storage (managed identity only), Application Insights, the user-assigned identity, the Azure Bot
// with the Teams channel and, optionally, an Event Hubs namespace for the Entra diagnostic
// setting; then, in Microsoft Entra, the Graph application permissions for that identity and the
// tab's Teams SSO app registration (infra/graph.bicep, when the deployer may create them).
//
//   azd up                     (azure.yaml; parameters from infra/main.parameters.json)
//   az deployment sub create -l <region> -f infra/main.bicep -p infra/main.parameters.json
//
// Plain resources with pinned API versions, no registry modules: every template here is read and
// checked by test/integration/deployment.test.ts.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Name of the azd environment: names the resource group and, hashed, every resource.')
param environmentName string

@minLength(1)
@description('Azure region of the resources (Flex Consumption must be offered there).')
param location string

@description('Object id of the person deploying (azd sets it): nothing is granted to it; kept as a tag.')
param principalId string = ''

@minValue(0)
@maxValue(10)
@description('Always-ready instances for the HTTP functions (chat, tab): 0 scales to zero (a cold start of a few seconds on the first message after a quiet spell); each instance is billed while it waits.')
param alwaysReadyHttpInstances int = 0

@allowed([ 2048, 4096 ])
@description('Memory per instance (MB).')
param instanceMemoryMB int = 2048

@maxValue(1000)
@minValue(40)
@description('Most instances the app scales out to.')
param maximumInstanceCount int = 40

@description('Grant the Microsoft Graph application permissions to the identity from this deployment (needs a Privileged Role Administrator or Global Administrator running it). When false, run the commands in the README.')
param grantGraphPermissions bool = true

@description('Create the Entra app registration for the tab\'s Teams SSO (needs the right to create applications). When false, run the commands in the README and set tabClientId.')
param createTabApp bool = true

@description('Client id of a tab SSO app registration made by hand (when createTabApp is false).')
param tabClientId string = ''

@description('Create an Event Hubs namespace with the insights-logs-provisioninglogs hub, for the Entra diagnostic setting (streaming in seconds). Without it, provbot polls Graph every 5 minutes.')
param enableEventHub bool = false

@description('Turn on actions on provisioning jobs from Teams (provision on demand, restart, pause, start, allow deletes) for Application, Cloud Application and Global Administrators and app owners, and grant Synchronization.ReadWrite.All for them. Off by default.')
param enableActions bool = false

@allowed([ 'roles', 'allowlist' ])
@description('Who may ask: roles (the admin center\'s rule, from the asker\'s directory roles and ownership) or allowlist (the object ids in allowedPrincipals).')
param access string = 'roles'

@description('With access=allowlist: comma-separated object ids of the users and groups allowed.')
param allowedPrincipals string = ''

@minValue(1)
@maxValue(365)
@description('Days of events kept (whole day tables are dropped after that).')
param retentionDays int = 30

@description('Bot Service pricing tier: F0 (free, standard channels such as Teams are free) or S1.')
@allowed([ 'F0', 'S1' ])
param botSku string = 'F0'

var tags = { 'azd-env-name': environmentName, app: 'provbot', deployedBy: principalId }
var token = toLower(uniqueString(subscription().id, environmentName, location))

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

// The identity first: the Entra objects and the resources both need its ids.
module identity 'identity.bicep' = {
  name: 'provbot-identity'
  scope: group
  params: {
    location: location
    tags: tags
    name: 'id-provbot-${token}'
  }
}

var hostName = 'func-provbot-${token}.azurewebsites.net'
// Teams SSO for a tab beside a bot: api://<host>/botid-<bot app id> (the bot's app id is the identity's client id).
var tabAppIdUri = 'api://${hostName}/botid-${identity.outputs.clientId}'

// Entra objects, through the Microsoft Graph Bicep extension (infra/bicepconfig.json).
module entra 'graph.bicep' = {
  name: 'provbot-entra'
  scope: group
  params: {
    identityPrincipalId: identity.outputs.principalId
    grantGraphPermissions: grantGraphPermissions
    createTabApp: createTabApp
    tabAppIdUri: tabAppIdUri
    environmentName: environmentName
    enableActions: enableActions
  }
}

module resources 'resources.bicep' = {
  name: 'provbot-resources'
  scope: group
  params: {
    location: location
    tags: tags
    token: token
    identityName: identity.outputs.name
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    enableEventHub: enableEventHub
    access: access
    enableActions: enableActions
    allowedPrincipals: allowedPrincipals
    retentionDays: retentionDays
    botSku: botSku
    tabClientId: createTabApp ? entra.outputs.tabClientId : tabClientId
    tabAppIdUri: tabAppIdUri
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = group.name
output FUNCTION_APP_NAME string = resources.outputs.functionAppName
output FUNCTION_APP_HOST string = resources.outputs.hostName
output BOT_APP_ID string = resources.outputs.botAppId
output BOT_NAME string = resources.outputs.botName
output TAB_CLIENT_ID string = createTabApp ? entra.outputs.tabClientId : tabClientId
output TAB_APP_ID_URI string = tabAppIdUri
output IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output IDENTITY_CLIENT_ID string = identity.outputs.clientId
output STORAGE_ACCOUNT_NAME string = resources.outputs.storageAccountName
output EVENTHUB_NAMESPACE string = resources.outputs.eventHubNamespace
