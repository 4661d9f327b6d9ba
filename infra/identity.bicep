// The one user-assigned managed identity: the bot's app id (UserAssignedMSI), and the credential
// of storage, Microsoft Graph and Event Hubs (AZURE_CLIENT_ID in the Function App).
param location string
param tags object
param name string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
