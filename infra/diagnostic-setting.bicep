// The Microsoft Entra diagnostic setting that streams ProvisioningLogs to provbot's Event Hub
// (deployed with enableEventHub=true). It lives at tenant scope ("/"), so it is a deployment of
// its own, by someone who is a Security Administrator (or Global Administrator) in Entra and has
// rights at the root scope, plus Microsoft.EventHub/namespaces/authorizationRules/listKeys on the
// namespace (Owner or Contributor of the resource group):
//
//   az deployment tenant create -l <region> -f infra/diagnostic-setting.bicep \
//     -p eventHubAuthorizationRuleId=$(az eventhubs namespace authorization-rule show \
//          -g <resource group> --namespace-name <EVENTHUB_NAMESPACE> -n RootManageSharedAccessKey --query id -o tsv)
//
// Provisioning logs need a Microsoft Entra ID P1 or P2 licence in the tenant.
targetScope = 'tenant'

@description('Resource id of the Event Hubs namespace authorization rule the setting sends with.')
param eventHubAuthorizationRuleId string

@description('The hub provbot reads (its Event Hub trigger names it).')
param eventHubName string = 'insights-logs-provisioninglogs'

param name string = 'provbot-provisioning-logs'

resource setting 'microsoft.aadiam/diagnosticSettings@2017-04-01' = {
  name: name
  properties: {
    eventHubAuthorizationRuleId: eventHubAuthorizationRuleId
    eventHubName: eventHubName
    logs: [
      {
        category: 'ProvisioningLogs'
        enabled: true
      }
    ]
  }
}
