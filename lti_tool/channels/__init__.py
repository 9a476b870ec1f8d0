"""How notices reach people outside the tool: LINE (the Messaging API), e-mail (SMTP), and their wording."""
