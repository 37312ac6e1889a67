Feature: Escalated tickets become incidents
  When a support ticket is marked Escalated, the incident tool gets an incident with the
  ticket's link and a severity that follows the ticket's priority (low 3, med 2, high 1,
  and 2 when the ticket has no priority).

  Background:
    Given the contract "support-escalation"

  Scenario Outline: The incident's severity follows the ticket's priority
    Given a ticket with priority "<priority>" exists
    When the ticket is escalated
    And the incident for the ticket is fetched
    Then the response field "severity" follows the mapping "priority_to_severity" from "<priority>"
    And the response matches the contract

    Examples:
      | priority |
      | low      |
      | med      |
      | high     |

  Scenario: A ticket without a priority opens a severity 2 incident
    Given a ticket without a priority exists
    When the ticket is escalated
    And the incident for the ticket is fetched
    Then the response field "severity" follows the mapping "priority_to_severity" for a missing value
    And the response matches the contract

  Scenario: The incident carries the ticket's link and id
    Given a ticket with priority "high" exists
    When the ticket is escalated
    Then the response body matches:
      """json
      { "status": "escalated", "incident_id": "#uuid" }
      """
    And the response matches the contract
    When the incident for the ticket is fetched
    Then the response body matches:
      """json
      {
        "link": "${ticket_link}",
        "external_id": "${ticket_id}",
        "status": "triggered",
        "created_at": "#date-time"
      }
      """

  Scenario: A ticket cannot be escalated twice
    Given a ticket with priority "med" exists
    And the ticket is escalated
    When the path parameter "id" is "${ticket_id}"
    And I call "escalateTicket"
    Then the response status is 409
    And the response matches the contract
    And the response field "error" is "already_escalated"
