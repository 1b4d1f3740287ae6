// aws-embedded-metrics detects its environment at import time and, outside Lambda, would
// probe EC2/ECS metadata addresses. Tests run "Local": each flush is one stdout line.
process.env.AWS_EMF_ENVIRONMENT = 'Local';
