Feature: The incidents API keeps its contract

  Background:
    Given the contract "support-escalation"

  Scenario: An incident opened directly is exactly what the contract describes
    When I call "createIncident" with the body:
      """json
      { "title": "Disk full", "severity": 2, "link": "https://desk.example/tickets/T-9007", "external_id": "T-9007" }
      """
    Then the response status is 201
    And the response matches the contract
    And the response body is exactly:
      """json
      {
        "id": "#uuid",
        "title": "Disk full",
        "severity": 2,
        "status": "triggered",
        "link": "https://desk.example/tickets/T-9007",
        "external_id": "T-9007",
        "created_at": "#date-time"
      }
      """

  Scenario: A severity outside 1..3 is refused
    When I call "createIncident" with a body that breaks the contract:
      """json
      { "title": "Disk full", "severity": 0, "link": "https://desk.example/tickets/T-7" }
      """
    Then the response status is 422
    And the response matches the contract
    And the response field "details.0.field" is "severity"
