// The resource group's resources: storage (managed identity only), monitoring, the Flex
// Consumption Function App on Node 22 with every setting provbot reads, the Azure Bot with the
// Teams channel, and (optionally) Event Hubs for the Entra diagnostic setting.
param location string
param tags object
param token string
param identityName string
param alwaysReadyHttpInstances int
param instanceMemoryMB int
param maximumInstanceCount int
param enableEventHub bool
param access string
param enableActions bool
param allowedPrincipals string
param retentionDays int
param botSku string
param tabClientId string
param tabAppIdUri string

var functionAppName = 'func-provbot-${token}'
var alertQueue = 'provbot-alerts'
var deploymentContainer = 'app-package'
var eventHubName = 'insights-logs-provisioninglogs'
var consumerGroup = 'provbot'

// Built-in role ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // the deployment package and the host's own blobs (leases, timers)
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // the alert outbox, and the host's queue trigger
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // every provbot table (created by the code on first use)
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Application Insights with local auth off
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde' // the Event Hub trigger
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

// ---- Storage: tables, the alert queue and the deployment package; no shared keys ----
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stprovbot${take(token, 15)}'
  location: location
  tags: tags
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: deploymentContainer
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource outbox 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queues
  name: alertQueue
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [ roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor ]: {
  scope: storage
  name: guid(storage.id, identity.id, role)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

// ---- Monitoring: Application Insights on a Log Analytics workspace, Entra auth only ----
resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-provbot-${token}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-provbot-${token}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

resource insightsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: insights
  name: guid(insights.id, identity.id, roles.monitoringMetricsPublisher)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

// ---- Event Hubs (optional): where the Entra diagnostic setting streams ProvisioningLogs ----
resource eventHubs 'Microsoft.EventHub/namespaces@2024-01-01' = if (enableEventHub) {
  name: 'evhns-provbot-${token}'
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard', capacity: 1 }
  properties: {
    disableLocalAuth: false // the Entra diagnostic setting writes with the namespace's authorization rule
    minimumTlsVersion: '1.2'
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = if (enableEventHub) {
  parent: eventHubs
  name: eventHubName
  properties: {
    partitionCount: 4
    messageRetentionInDays: 1
  }
}

resource hubConsumers 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = if (enableEventHub) {
  parent: hub
  name: consumerGroup
}

resource eventHubRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enableEventHub) {
  scope: eventHubs
  name: guid(eventHubs.id, identity.id, roles.eventHubsDataReceiver)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataReceiver)
  }
}

// ---- The Function App: Flex Consumption, Node 22, the same dist/ the local host runs ----
resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-provbot-${token}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

var storageSettings = [
  // The Functions runtime's own storage (leases, timers, the queue trigger), by identity.
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
  { name: 'AzureWebJobsStorage__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
  { name: 'AzureWebJobsStorage__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
  { name: 'AzureWebJobsStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
  // provbot's tables (and the alert queue beside them), by identity.
  { name: 'PROVBOT_STORAGE_ACCOUNT_URL', value: storage.properties.primaryEndpoints.table }
  { name: 'PROVBOT_ALERT_QUEUE', value: alertQueue }
]
var identitySettings = [
  // Every Azure SDK credential (DefaultAzureCredential) picks this identity.
  { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
]
var botSettings = [
  { name: 'MicrosoftAppType', value: 'UserAssignedMSI' }
  { name: 'MicrosoftAppId', value: identity.properties.clientId }
  { name: 'MicrosoftAppTenantId', value: tenant().tenantId }
  { name: 'PROVBOT_TENANT_ID', value: tenant().tenantId }
]
var graphSettings = [
  { name: 'PROVBOT_GRAPH_MANAGED_IDENTITY', value: 'true' }
  { name: 'PROVBOT_GRAPH_CLIENT_ID', value: identity.properties.clientId }
]
var accessSettings = concat([ { name: 'PROVBOT_ACCESS', value: access }, { name: 'PROVBOT_ACTIONS', value: enableActions ? 'on' : 'off' }, { name: 'PROVBOT_RETENTION_DAYS', value: string(retentionDays) } ], empty(allowedPrincipals) ? [] : [ { name: 'PROVBOT_ALLOWED_PRINCIPALS', value: allowedPrincipals } ])
var tabSettings = empty(tabClientId) ? [] : [
  { name: 'PROVBOT_TAB_CLIENT_ID', value: tabClientId }
  { name: 'PROVBOT_TAB_APP_ID_URI', value: tabAppIdUri }
  { name: 'PROVBOT_TAB_DOMAIN', value: '${functionAppName}.azurewebsites.net' }
]
// The Event Hub trigger's connection by identity; without Event Hubs the function is disabled (the
// Graph poller alone brings the logs in) and its binding's consumer group still resolves.
var eventHubSettings = concat([ { name: 'PROVBOT_EVENTHUB_CONSUMER_GROUP', value: enableEventHub ? consumerGroup : '$Default' } ], enableEventHub ? [
  { name: 'PROVBOT_EVENTHUB__fullyQualifiedNamespace', value: '${eventHubs.name}.servicebus.windows.net' }
  { name: 'PROVBOT_EVENTHUB__credential', value: 'managedidentity' }
  { name: 'PROVBOT_EVENTHUB__clientId', value: identity.properties.clientId }
] : [
  { name: 'AzureWebJobs.eventHubIngest.Disabled', value: 'true' }
])

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReadyHttpInstances > 0 ? [ { name: 'http', instanceCount: alwaysReadyHttpInstances } ] : []
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: concat(storageSettings, identitySettings, botSettings, graphSettings, accessSettings, tabSettings, eventHubSettings)
    }
  }
  dependsOn: [ storageRoles, insightsRole, packageContainer, outbox ]
}

// ---- The Azure Bot on the same identity, with the Teams channel ----
resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: 'bot-provbot-${token}'
  location: 'global'
  tags: tags
  kind: 'azurebot'
  sku: { name: botSku }
  properties: {
    displayName: 'provbot'
    endpoint: 'https://${functionApp.properties.defaultHostName}/api/messages'
    msaAppId: identity.properties.clientId
    msaAppType: 'UserAssignedMSI'
    msaAppMSIResourceId: identity.id
    msaAppTenantId: tenant().tenantId
  }
}

resource teams 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: { isEnabled: true }
  }
}

output functionAppName string = functionApp.name
output hostName string = functionApp.properties.defaultHostName
output botAppId string = identity.properties.clientId
output botName string = bot.name
output storageAccountName string = storage.name
output eventHubNamespace string = enableEventHub ? eventHubs.name : ''
