// Microsoft Entra objects, through the Microsoft Graph Bicep extension (bicepconfig.json):
// - the Graph application permissions provbot's identity needs, and nothing more (the README says
//   why each); granting them is an admin consent, so the deployer must be a Privileged Role
//   Administrator or Global Administrator (otherwise set grantGraphPermissions=false and have one
//   run the commands in the README);
// - the app registration of the tab's Teams SSO: Application ID URI api://<host>/botid-<bot id>,
//   the scope access_as_user, and the Teams clients pre-authorised (no consent prompt in Teams).
extension microsoftGraphV1

param identityPrincipalId string
param grantGraphPermissions bool
param createTabApp bool
param tabAppIdUri string
param environmentName string
param enableActions bool

// The permissions, each checked against Graph's own app roles when granted (a misspelt name fails the deployment).
var graphPermissions = [
  'AuditLog.Read.All' // provisioning logs and the provisioning audit trail (GET /auditLogs/provisioning, /auditLogs/directoryAudits)
  'Directory.Read.All' // required with AuditLog.Read.All by those endpoints; also the asker's roles, groups and owned apps
  'Synchronization.Read.All' // every provisioning job's status (GET /servicePrincipals/{id}/synchronization/jobs)
]

// Opt-in (enableActions): the job actions from Teams (provision on demand, restart, pause, start, allow deletes).
var actionPermissions = [
  'Synchronization.ReadWrite.All' // POST .../synchronization/jobs/{id}/provisionOnDemand, /restart, /pause, /start on any app's job
]

resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: '00000003-0000-0000-c000-000000000000'
}

resource grants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for permission in graphPermissions: if (grantGraphPermissions) {
  appRoleId: filter(graph.appRoles, role => role.value == permission)[0].id
  principalId: identityPrincipalId
  resourceId: graph.id
}]

resource actionGrants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for permission in actionPermissions: if (grantGraphPermissions && enableActions) {
  appRoleId: filter(graph.appRoles, role => role.value == permission)[0].id
  principalId: identityPrincipalId
  resourceId: graph.id
}]

// Microsoft Teams' clients, pre-authorised to ask for access_as_user silently.
var teamsClients = [
  '1fec8e78-bce4-4aaf-ab1b-5451cc387264' // Teams desktop and mobile
  '5e3ce6c0-2b1f-4285-8d4b-75ee78787346' // Teams web
]
var scopeId = guid(environmentName, 'provbot-tab', 'access_as_user')

resource tabApp 'Microsoft.Graph/applications@v1.0' = if (createTabApp) {
  uniqueName: 'provbot-tab-${environmentName}'
  displayName: 'provbot tab (${environmentName})'
  signInAudience: 'AzureADMyOrg'
  identifierUris: [ tabAppIdUri ]
  api: {
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: scopeId
        value: 'access_as_user'
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Read provisioning health as the signed-in admin'
        adminConsentDescription: 'Lets Teams call the provbot tab\'s data as the signed-in user; provbot then applies its own access rule.'
        userConsentDisplayName: 'Read provisioning health as you'
        userConsentDescription: 'Lets Teams call the provbot tab\'s data as you.'
      }
    ]
    preAuthorizedApplications: [for client in teamsClients: {
      appId: client
      delegatedPermissionIds: [ scopeId ]
    }]
  }
}

resource tabPrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = if (createTabApp) {
  appId: tabApp.appId
}

output tabClientId string = createTabApp ? tabApp.appId : ''
output grantedPermissions array = grantGraphPermissions ? graphPermissions : []
